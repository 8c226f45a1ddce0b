// chcontext [--ctx N] [--secure] [--cap [!]CAP]... [--hostname H] [--domainname D] [--flag F]...
//           [--silent] -- CMD...          (reference §1.2; design in docs/host-views.md)

import { writeFileSync } from "node:fs";
import { UsageError, NotFoundError } from "../errors";
import { makeEnv } from "../control/env";
import { execInGuest } from "../control/exec";
import { loadGuest } from "../control/guests";
import { record } from "../drivers/journal";
import { resolveContext } from "../control/context-tools";
import { runInNewContext, ownBoundingSet } from "../control/new-context";
import { runSpectator } from "../control/spectator";
import { applyCapabilityList, DEFAULT_CAPABILITIES } from "../pure/config/capabilities";
import { parseCflags } from "../pure/config/cflags";
import { execvp } from "../drivers/exec-self";
import { runMain } from "./main";
import { writeOut, writeErr } from "../drivers/output";
import { parseOptions } from "./options";

const PROG = "chcontext";

const HELP = `Usage: chcontext [OPTIONS] -- CMD [ARGS...]

Without --ctx: run CMD in a new context (the next free number from 49152, printed on stderr
unless --silent) with the host's file system but its own process space, UTS and IPC. CMD is
the context's PID 1; when it ends, every process left in the context ends too.
  --ctx N         use context number N for the new context; if a guest runs at N, run CMD in
                  that guest instead (as 'vserver NAME exec'); N = 1 is the spectator: CMD sees
                  every process on the host but can signal none of them
  --secure        keep only util-vserver's safe capabilities (the guests' default set)
  --cap [!]CAP    add CAP to (or with !, remove it from) the bounding set; repeatable
  --hostname H, --domainname D   the new context's UTS names
  --flag F        a context flag (checked; the new context is always a fresh PID namespace)
  --silent        do not print the new context number
`;

const HOSTNAME_RE = /^[A-Za-z0-9][A-Za-z0-9.-]{0,63}$/;

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === "--inner") return inner(argv.slice(1));
  const dd = argv.indexOf("--");
  const own = dd < 0 ? argv : argv.slice(0, dd);
  const parsed = await parseOptions("chcontext", own, {
        ctx: { type: "string" }, xid: { type: "string" }, secure: { type: "boolean" }, cap: { type: "string", multiple: true },
        hostname: { type: "string" }, domainname: { type: "string" }, flag: { type: "string", multiple: true },
        silent: { type: "boolean" }, disconnect: { type: "boolean" }, help: { type: "boolean", short: "h" },
      },);
  const { values: v, positionals } = parsed;
  if (v.help) {
    writeOut(HELP);
    return 0;
  }
  const cmd = dd < 0 ? positionals : [...positionals, ...argv.slice(dd + 1)];
  if (!cmd.length) throw new UsageError("no command given; usage: chcontext [OPTIONS] -- CMD [ARGS...].");
  const ctxArg = v.ctx ?? v.xid;
  let ctx: number | undefined;
  if (ctxArg !== undefined) {
    if (!/^\d+$/.test(ctxArg) || Number(ctxArg) > 65535) throw new UsageError(`--ctx: '${ctxArg}' is not a context number (1 to 65535).`);
    ctx = Number(ctxArg);
    if (ctx === 0) throw new UsageError("--ctx 0 is the host itself; run the command directly.");
  }
  for (const [opt, val] of [["--hostname", v.hostname], ["--domainname", v.domainname]] as const) {
    if (val !== undefined && !HOSTNAME_RE.test(val)) throw new UsageError(`${opt}: '${val}' is not a valid name (letters, digits, '.' and '-', at most 64 characters).`);
  }
  try {
    parseCflags(v.flag ?? [], "--flag");
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/^--flag: /, "--flag: "));
  }
  let caps;
  try {
    caps = applyCapabilityList(v.secure ? DEFAULT_CAPABILITIES : ownBoundingSet(), v.cap ?? [], "--cap");
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  // Never more than we hold: a bounding set only shrinks.
  const held = new Set(ownBoundingSet());
  caps = caps.filter((c) => held.has(c));
  const env = makeEnv();
  const changesBox = v.secure || v.cap?.length || v.hostname !== undefined || v.domainname !== undefined;

  if (ctx === 1) {
    if (v.hostname !== undefined || v.domainname !== undefined) throw new UsageError("--ctx 1 (the spectator) shares the host's UTS names; --hostname and --domainname do not apply.");
    return runSpectator(cmd);
  }
  if (ctx !== undefined) {
    let ref;
    try {
      ref = resolveContext(env, String(ctx));
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e;
    }
    if (ref?.name) {
      if (changesBox) throw new UsageError(`context ${ctx} is the running guest '${ref.name}': its capabilities and names come from its config; --secure, --cap, --hostname and --domainname do not apply.`);
      const code = await execInGuest(env, loadGuest(env, ref.name), { argv: cmd });
      record(env.paths.logDir, { op: "exec", guest: ref.name, context: ctx, ok: true, via: "chcontext", argv0: cmd[0], exit: code });
      return code;
    }
    if (ref) throw new UsageError(`context ${ctx} is in use by processes that are not a guest's; choose another number.`);
  }
  return runInNewContext(env, {
    context: ctx, caps, hostname: v.hostname, domainname: v.domainname, argv: cmd,
    announce: v.silent ? undefined : (n) => writeErr(`New security context is ${n}\n`),
    innerArgv: [process.execPath, process.argv[1]!, "--inner"],
  });
}

/** Inside the new namespaces: set the UTS names, then become CMD. */
function inner(args: string[]): never {
  const [hostname, domainname, dd, ...cmd] = args;
  if (dd !== "--" || !cmd.length) throw new UsageError("--inner is internal to chcontext.");
  if (hostname) writeFileSync("/proc/sys/kernel/hostname", hostname);
  if (domainname) writeFileSync("/proc/sys/kernel/domainname", domainname);
  execvp(cmd);
}

if (import.meta.main) runMain(PROG, main);
