import { describe, expect, test } from "bun:test";
import { psRows, rowPid, spliceContext, type Attribution } from "../../src/pure/format/vps";

const PS = `    PID TTY      STAT   TIME COMMAND
      1 ?        Ss     0:02 init [3]
   2215 ?        Ss     0:00 /usr/sbin/sshd -D
   3001 pts/0    R+     0:00 ps ax
`;

const table: Record<number, Attribution> = {
  1: { context: 0, name: "MAIN" },
  2215: { context: 40000, name: "web01" },
};
const attribute = (pid: number) => table[pid];

describe("vps splice", () => {
  test("inserts CONTEXT after PID, ERR for a process that could not be placed", () => {
    expect(spliceContext(PS, attribute)).toBe(`    PID CONTEXT             TTY      STAT   TIME COMMAND
      1     0 MAIN          ?        Ss     0:02 init [3]
   2215 40000 web01         ?        Ss     0:00 /usr/sbin/sshd -D
   3001       ERR           pts/0    R+     0:00 ps ax
`);
  });

  test("the name column grows for long names instead of cutting them", () => {
    const out = spliceContext(PS, (p) => (p === 2215 ? { context: 40001, name: "a-guest-with-a-long-name" } : { context: 0, name: "MAIN" }));
    const lines = out.split("\n");
    expect(lines[2]).toContain("40001 a-guest-with-a-long-name ?");
    expect(lines[0]!.indexOf("TTY")).toBe(lines[2]!.indexOf("?"));
  });

  test("PID as the last column, and PID after other columns (ps -ef)", () => {
    expect(spliceContext("COMMAND             PID\nsshd               2215\n", attribute)).toBe("COMMAND             PID CONTEXT\nsshd               2215 40000 web01\n");
    const ef = "UID          PID    PPID  C STIME TTY          TIME CMD\nroot        2215       1  0 10:00 ?        00:00:00 sshd\n";
    const out = spliceContext(ef, attribute).split("\n");
    expect(out[0]).toBe("UID          PID CONTEXT                PPID  C STIME TTY          TIME CMD");
    expect(out[1]).toBe("root        2215 40000 web01               1  0 10:00 ?        00:00:00 sshd");
    expect(out[0]!.indexOf("PPID") + 4).toBe(out[1]!.indexOf(" 1 ") + 2);
  });

  test("top's summary lines pass through untouched", () => {
    const top = "top - 10:00:00 up 1 day\nTasks: 2 total\n\n    PID USER      PR  NI COMMAND\n   2215 root      20   0 sshd\n";
    const out = spliceContext(top, attribute).split("\n");
    expect(out[0]).toBe("top - 10:00:00 up 1 day");
    expect(out[4]).toBe("   2215 40000 web01         root      20   0 sshd");
    expect(out[3]!.indexOf("USER")).toBe(out[4]!.indexOf("root"));
  });

  test("output without a PID column is returned as it is", () => {
    expect(spliceContext("COMMAND\nsshd\n", attribute)).toBe("COMMAND\nsshd\n");
  });

  test("rowPid reads the right-aligned number", () => {
    expect(rowPid("   2215 ?", 7)).toBe(2215);
    expect(rowPid("   ", 3)).toBeUndefined();
  });
});

describe("vps --json rows", () => {
  test("fields by heading, the command keeps its spaces", () => {
    const rows = psRows(PS, attribute);
    expect(rows).toHaveLength(3);
    expect(rows[1]).toEqual({ pid: 2215, context: 40000, name: "web01", fields: { PID: "2215", TTY: "?", STAT: "Ss", TIME: "0:00", COMMAND: "/usr/sbin/sshd -D" } });
    expect(rows[2]!.context).toBeNull();
  });
});
