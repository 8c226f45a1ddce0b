// The one table of config settings: the docs match it, and the parser cannot read a key it lacks.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readSetting, settingFor, SETTINGS } from "../../src/pure/config/settings";
import { settingsMarkdown, utilSettingsMarkdown, BEGIN, END, UTIL_BEGIN, UTIL_END } from "../../src/pure/config/settings-doc";
import { parseGuestConfig } from "../../src/pure/config/guest-config";
import { fileTree } from "../../src/pure/config/tree";
import { parseInterfaces } from "../../src/pure/config/interfaces";

const doc = readFileSync(join(import.meta.dir, "../../docs/configuration.md"), "utf8");
const parse = (guest: Record<string, string>, defaults: Record<string, string> = {}) =>
  parseGuestConfig({ name: "g", cfgDir: "/etc/vservers/g", guest: fileTree(guest), defaults: fileTree(defaults), vdirBase: "/vservers" });

describe("settings table", () => {
  test("docs/configuration.md holds the table as settings.ts makes it (run `make docs`)", () => {
    const block = doc.slice(doc.indexOf(BEGIN), doc.indexOf(END) + END.length);
    expect(block).toBe(settingsMarkdown());
    const util = doc.slice(doc.indexOf(UTIL_BEGIN), doc.indexOf(UTIL_END) + UTIL_END.length);
    expect(util).toBe(utilSettingsMarkdown());
  });

  test("a file of an interfaces/ entry that util-vserver had and we do not apply is reported with the table's reason", () => {
    const tree = fileTree({ "interfaces/00/ip": "10.0.0.2", "interfaces/00/mac": "02:00:00:00:00:01", "interfaces/00/bogus": "1", "interfaces/vlandev": "" });
    const w = parseInterfaces(tree, "/etc/vservers/g").warnings;
    expect(w.find((x) => x.file.endsWith("00/mac"))?.message).toBe("not supported: not done yet (docs/networking.md)");
    expect(w.find((x) => x.file.endsWith("00/bogus"))?.message).toBe("not a setting this version knows; it is ignored");
    expect(w.find((x) => x.file.endsWith("interfaces/vlandev"))?.message).toMatch(/^not supported: VLAN devices are not created/);
    expect(w.some((x) => x.file.endsWith("00/ip"))).toBe(false);
  });

  test("every key appears once", () => {
    const keys = SETTINGS.map((s) => s.key);
    expect(new Set(keys).size).toBe(keys.length);
  });

  test("an exact row wins over its directory's, and a read directory over an unsupported one", () => {
    expect(settingFor("rlimits/nproc")?.status).toBe("read");
    expect(settingFor("rlimits/nproc.soft")?.status).toBe("read");
    expect(settingFor("rlimits/nofile")?.status).toBe("unsupported");
    expect(settingFor("sched/priority-bias")?.status).toBe("read");
    expect(settingFor("sched/fill-rate")?.status).toBe("read");
    expect(settingFor("sched/tokens-max")?.status).toBe("unsupported");
    expect(settingFor("nothing-known")).toBeUndefined();
    expect(() => readSetting("nothing-known")).toThrow(/no row in pure\/config\/settings.ts/);
  });

  test("what the table says of .defaults is what the parser does", () => {
    // A guest's own identity never comes from .defaults ...
    expect(parse({}, { "uts/nodename": "other" }).nodename).toBe("g");
    expect(parse({}, { "apps/init/mark": "default" }).mark).toBeUndefined();
    expect(readSetting("uts/nodename").fromDefaults).toBe(false);
    // ... while the rest falls back to it.
    expect(parse({}, { nice: "5" }).nice).toBe(5);
    expect(readSetting("nice").fromDefaults).toBe(true);
  });

  test("files util-vserver knows but we do not apply are reported with the table's reason", () => {
    const w = parse({ badness: "5", "sched/tokens-max": "1", "cpuset/cpus": "1" }).warnings;
    expect(w.map((x) => x.file).sort()).toEqual(["/etc/vservers/g/badness", "/etc/vservers/g/cpuset/cpus", "/etc/vservers/g/sched/tokens-max"]);
    expect(w.find((x) => x.file.endsWith("badness"))?.message).toMatch(/^not supported: /);
  });
});
