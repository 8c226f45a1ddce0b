// Which requests a service worker serves in its own process and then takes another: only the
// views, and only in the forms listed (service/reusable.ts).

import { describe, expect, test } from "bun:test";
import { reusableRequest } from "../../src/service/reusable";

describe("reusable requests", () => {
  test("the views and vkill are", () => {
    expect(reusableRequest("vserver-stat", [])).toBe(true);
    expect(reusableRequest("vps", ["ax"])).toBe(true);
    expect(reusableRequest("vserver-info", ["web", "CONTEXT"])).toBe(true);
    expect(reusableRequest("vkill", ["--xid", "web", "-s", "HUP", "1"])).toBe(true);
    expect(reusableRequest("vserver", ["--list"])).toBe(true);
    expect(reusableRequest("vserver", ["--list", "--json"])).toBe(true);
    expect(reusableRequest("vserver", ["web", "running"])).toBe(true);
    expect(reusableRequest("vserver", ["web", "status"])).toBe(true);
    expect(reusableRequest("vserver", ["web", "status", "--json"])).toBe(true);
  });

  test("whatever changes something, or a form not listed, is not", () => {
    for (const args of [["web", "start"], ["web", "exec", "true"], ["web", "enter"], ["web", "running", "x"], ["--silent", "web", "status"], ["--list", "x"], ["web"], []]) {
      expect(reusableRequest("vserver", args)).toBe(false);
    }
    for (const cmd of ["vlimit", "chcontext", "start-vservers", "vuname", "vserver-events", "nosuch"]) {
      expect(reusableRequest(cmd, [])).toBe(false);
    }
  });
});
