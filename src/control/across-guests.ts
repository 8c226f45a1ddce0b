// One command in many guests: util-vserver's vsomething, and vapt-get, vrpm and vyum on top of it.
// Each guest runs its own tool inside itself (one `vserver NAME exec` per guest, which the host
// service serves warm), several guests at a time, each output line labelled with the guest.

import { ToolError } from "../errors";
import { select, type BootGuest, type Selection } from "../pure/boot-order";
import type { GuestConfig } from "../pure/config/guest-config";
import { vserverCommand } from "./boot";
import type { Env } from "./env";
import { settleAllExited } from "./exited";
import { guestHasProgram } from "./guest-programs";
import { lookupRoot } from "./unify";
import { listGuestNames, loadGuest } from "./guests";
import { liveRecord } from "./info";

export interface AcrossRequest {
  selection: Selection;
  /** The command and its arguments, run in each guest. */
  argv: string[];
  /** How many guests at a time. */
  jobs: number;
}

export interface AcrossOutcome {
  name: string;
  /** "skipped": a guest chosen by a set (--all, --marked, ...) that is not running. */
  result: "ok" | "failed" | "skipped";
  detail?: string;
}

export interface AcrossOutput {
  out(line: string): void;
  err(line: string): void;
}

/** Split a stream into lines as they come, so that each can be labelled without waiting for the end. */
async function eachLine(stream: ReadableStream<Uint8Array>, emit: (line: string) => void): Promise<void> {
  const dec = new TextDecoder();
  let buf = "";
  for await (const chunk of stream) {
    buf += dec.decode(chunk, { stream: true });
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      emit(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  }
  buf += dec.decode();
  if (buf) emit(buf);
}

async function runInGuest(env: Env, cmd: string[], g: GuestConfig, argv: string[], named: boolean, o: AcrossOutput): Promise<AcrossOutcome> {
  if (!liveRecord(env, g.name)) return { name: g.name, result: named ? "failed" : "skipped", detail: "not running" };
  if (!guestHasProgram(g, argv[0]!, lookupRoot(env, g))) return { name: g.name, result: "failed", detail: `${argv[0]}: no such program in this guest` };
  let p;
  try {
    p = Bun.spawn([...cmd, g.name, "exec", ...argv], {
      env: { ...process.env, VSERVER_ROOT: env.paths.root === "/" ? "" : env.paths.root } as Record<string, string>,
      stdin: "ignore", stdout: "pipe", stderr: "pipe",
    });
  } catch (e) {
    throw new ToolError(`cannot run ${cmd[0]}: ${(e as Error).message}`);
  }
  await Promise.all([eachLine(p.stdout, (l) => o.out(`${g.name}: ${l}`)), eachLine(p.stderr, (l) => o.err(`${g.name}: ${l}`))]);
  const code = await p.exited;
  return code === 0 ? { name: g.name, result: "ok" } : { name: g.name, result: "failed", detail: `exit status ${p.signalCode ? `128+${p.signalCode}` : code}` };
}

/** The guests a selection names; named guests must exist (the not-found error names the first that does not). */
function chosenGuests(env: Env, sel: Selection): GuestConfig[] {
  if (sel.kind === "names") return [...new Set(sel.names)].map((n) => loadGuest(env, n));
  const all = listGuestNames(env).map((n) => loadGuest(env, n));
  const byName = new Map(all.map((g) => [g.name, g]));
  const boot: BootGuest[] = all.map((g) => ({ name: g.name, mark: g.mark, depends: [], dependsFile: "" }));
  return select(boot, sel, (n) => liveRecord(env, n) !== undefined).map((b) => byName.get(b.name)!);
}

export async function runAcrossGuests(env: Env, req: AcrossRequest, o: AcrossOutput): Promise<AcrossOutcome[]> {
  await settleAllExited(env);
  const guests = chosenGuests(env, req.selection);
  const cmd = vserverCommand();
  const named = req.selection.kind === "names";
  const outcomes: AcrossOutcome[] = [];
  let next = 0;
  const worker = async () => {
    while (next < guests.length) {
      const g = guests[next++]!;
      const r = await runInGuest(env, cmd, g, req.argv, named, o);
      outcomes.push(r);
      const line = `${g.name}: ${r.result}${r.detail ? ` (${r.detail})` : ""}`;
      if (r.result === "failed") o.err(line);
      else o.out(line);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(req.jobs, guests.length)) }, worker));
  return outcomes;
}

