import { describe, expect, test } from "bun:test";
import { markContextTops } from "../../src/pure/format/pstree";

describe("vpstree marks", () => {
  const procs = new Map([
    [1, { context: 0, ppid: 0 }],
    [100, { context: 0, ppid: 1 }],
    [200, { context: 40000, ppid: 1 }],
    [201, { context: 40000, ppid: 200 }],
    [300, { context: 40001, ppid: 100 }],
  ]);
  const names = new Map([[40000, "web"]]);

  test("only the process that enters a context is marked, with its name when it has one", () => {
    const tree = "init(1)-+-sshd(100)---sh(300)\n        `-vserver-init(200)---sleep(201)\n";
    expect(markContextTops(tree, procs, names)).toBe("init(1)-+-sshd(100)---sh(300)[40001]\n        `-vserver-init(200)[40000 web]---sleep(201)\n");
  });

  test("processes not in the scan stay as they are", () => {
    expect(markContextTops("x(999)", procs, names)).toBe("x(999)");
  });
});
