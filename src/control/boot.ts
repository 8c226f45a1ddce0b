// start-vservers: many guests started or stopped in the order their apps/init/depends ask for,
// several at a time (util-vserver generated a Makefile and ran `make -k -jN`). Each guest is one
// `vserver NAME start|stop`, so the host service serves those it can, and a failing guest
// stops only the guests that depend on it. The journal has each guest's own start or stop.

import { ToolError } from "../errors";
import { builtFile } from "../drivers/built-files";
import { lastLine, runAsync } from "../drivers/process";
import { select, startWaves, stopWaves, type BootGuest, type Selection } from "../pure/boot-order";
import { settleAllExited } from "./exited";
import type { Env } from "./env";
import { listGuestNames, loadGuest } from "./guests";
import { liveRecord } from "./info";

export interface BootRequest {
  selection: Selection;
  stop: boolean;
  /** How many guests at a time. */
  jobs: number;
  /** Only say what would be done. */
  test: boolean;
}

export interface BootOutcome {
  name: string;
  result: "started" | "stopped" | "failed" | "skipped";
  detail?: string;
}

/** The vserver command to run once per guest: the client, which the host service serves warm. */
export function vserverCommand(): string[] {
  const client = builtFile("../bin/vserver");
  if (client) return [client];
  const bundle = builtFile("vserver.js");
  if (bundle) return [process.execPath, bundle];
  throw new ToolError("the vserver command is not built; run 'make' in the vserver checkout.");
}

async function runOne(env: Env, cmd: string[], name: string, verb: "start" | "stop"): Promise<BootOutcome> {
  const r = await runAsync([...cmd, name, verb], { env: { ...process.env, VSERVER_ROOT: env.paths.root === "/" ? "" : env.paths.root } });
  if (r.code === 0) return { name, result: verb === "start" ? "started" : "stopped" };
  return { name, result: "failed", detail: lastLine(r.stderr).replace(/^vserver: /, "") || `exit status ${r.code}` };
}

/** Plan and carry out; `say` gets one line per wave (test) or per guest as each ends. */
export async function bootGuests(env: Env, req: BootRequest, say: (line: string) => void): Promise<BootOutcome[]> {
  await settleAllExited(env);
  // Every config is read before anything is done: a broken one stops the whole run, untouched.
  const names = listGuestNames(env);
  const all: BootGuest[] = names.map((n) => {
    const g = loadGuest(env, n);
    return { name: n, mark: g.mark, depends: g.depends, dependsFile: `${g.cfgDir}/apps/init/depends` };
  });
  const running = (n: string) => liveRecord(env, n) !== undefined;
  const chosen = select(all, req.selection, running);
  const known = new Set(names);
  const waves = req.stop ? stopWaves(chosen, known) : startWaves(chosen, known);
  const verb = req.stop ? "stop" : "start";
  if (req.test) {
    waves.forEach((w, i) => say(`${verb} wave ${i + 1}: ${w.join(" ")}`));
    return [];
  }
  const cmd = vserverCommand();
  const byName = new Map(chosen.map((g) => [g.name, g]));
  const outcomes: BootOutcome[] = [];
  const report = (o: BootOutcome) => {
    outcomes.push(o);
    say(`${o.name}: ${o.result}${o.detail ? `: ${o.detail}` : ""}`);
  };
  for (const wave of waves) {
    const todo: string[] = [];
    for (const name of wave) {
      if (!req.stop && running(name)) report({ name, result: "skipped", detail: "already running" });
      else if (req.stop && !running(name)) report({ name, result: "skipped", detail: "not running" });
      else if (!req.stop) {
        const missing = byName.get(name)!.depends.find((d) => !running(d));
        if (missing) report({ name, result: "skipped", detail: `it depends on '${missing}', which is not running` });
        else todo.push(name);
      } else todo.push(name);
    }
    let next = 0;
    const worker = async () => {
      while (next < todo.length) report(await runOne(env, cmd, todo[next++]!, verb));
    };
    await Promise.all(Array.from({ length: Math.min(req.jobs, todo.length) }, worker));
  }
  return outcomes;
}
