// vtop [top options]: top with the CONTEXT column of vps. On a terminal it refreshes (q or
// Ctrl-C ends it); with -b, -n 1 or without a terminal it prints one snapshot for scripts.

import { UsageError } from "../errors";
import { pathsFor } from "../pure/paths";
import { spliceContext } from "../pure/format/vps";
import { attributor } from "../control/host-view";
import type { Env } from "../control/env";
import { isTerminal } from "../drivers/terminal";
import { runMain } from "./main";
import { writeOut } from "../drivers/output";

const HELP = `Usage: vtop [-b] [-d SECONDS] [TOP-OPTIONS...]

top's process list with a CONTEXT column (context number and guest name) after PID.
-b or no terminal: one snapshot. Otherwise it refreshes every -d seconds (default 2); q quits.
`;

function snapshot(args: string[]): string {
  const r = Bun.spawnSync(["top", "-b", "-n", "1", "-w", "512", ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) {
    const line = r.stderr.toString().split("\n").find((l) => l.trim()) ?? `exit status ${r.exitCode}`;
    throw new UsageError(`top refused '${args.join(" ")}': ${line.replace(/^top:\s*/, "")}`);
  }
  const env = { paths: pathsFor(process.env) } as Env;
  return spliceContext(r.stdout.toString(), attributor(env));
}

export async function main(argv: string[]): Promise<number> {
  if (argv.includes("--help")) {
    writeOut(HELP);
    return 0;
  }
  let delay = 2;
  const args: string[] = [];
  let batch = !isTerminal(1) || !isTerminal(0);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "-b") batch = true;
    else if (a === "-d") {
      const v = argv[++i];
      if (!v || !/^\d+(\.\d+)?$/.test(v)) throw new UsageError(`-d: '${v ?? ""}' is not a number of seconds.`);
      delay = Number(v);
    } else args.push(a);
  }
  if (batch) {
    writeOut(snapshot(args));
    return 0;
  }
  process.stdin.setRawMode(true);
  let stop = false;
  process.stdin.on("data", (d) => {
    const s = d.toString();
    if (s.includes("q") || s.includes("\x03")) stop = true;
  });
  try {
    while (!stop) {
      const rows = process.stdout.rows || 24;
      const cols = process.stdout.columns || 80;
      const lines = snapshot(args).split("\n").slice(0, rows - 1).map((l) => l.slice(0, cols));
      writeOut("\x1b[H\x1b[2J" + lines.join("\n"));
      for (let t = 0; t < delay * 10 && !stop; t++) await Bun.sleep(100);
    }
  } finally {
    process.stdin.setRawMode(false);
    writeOut("\n");
  }
  return 0;
}

if (import.meta.main) runMain("vtop", main);
