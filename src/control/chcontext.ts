// chcontext's policy (reference §1.2, seed 003 §2.6 and §6.1): which kind of context a request
// gets. Context 1 is the spectator; the number of a running guest runs CMD in that guest; else a
// new context: for the host's root one with a cgroup that vps and vserver-stat attribute, for an
// ordinary user the personal security box (control/new-context.ts).

import { NotFoundError, UsageError } from "../errors";
import { record } from "../drivers/journal";
import { applyCapabilityList, DEFAULT_CAPABILITIES } from "../pure/config/capabilities";
import { parseCflags } from "../pure/config/cflags";
import { resolveContext } from "./context-tools";
import type { Env } from "./env";
import { execInGuest } from "./exec";
import { loadGuest } from "./guests";
import { runInNewContext, runInPersonalBox } from "./new-context";
import { boundingSet } from "../drivers/host-facts";
import { runSpectator } from "./spectator";

export interface ChcontextRequest {
  ctx?: string;
  secure: boolean;
  caps: string[];
  hostname?: string;
  domainname?: string;
  flags: string[];
  argv: string[];
  /** Called with a new context's number once it is allocated (chcontext prints it). */
  announce?: (context: number) => void;
  /** argv that re-runs chcontext in its inner mode (sets UTS names, then execs). */
  innerArgv: string[];
}

const HOSTNAME_RE = /^[A-Za-z0-9][A-Za-z0-9.-]{0,63}$/;

function contextNumber(arg: string | undefined): number | undefined {
  if (arg === undefined) return undefined;
  if (!/^\d+$/.test(arg) || Number(arg) > 65535) throw new UsageError(`--ctx: '${arg}' is not a context number (1 to 65535).`);
  const n = Number(arg);
  if (n === 0) throw new UsageError("--ctx 0 is the host itself; run the command directly.");
  return n;
}

export async function chcontext(env: Env, req: ChcontextRequest): Promise<number> {
  if (!req.argv.length) throw new UsageError("no command given; usage: chcontext [OPTIONS] CMD [ARGS...].");
  const ctx = contextNumber(req.ctx);
  for (const [opt, val] of [["--hostname", req.hostname], ["--domainname", req.domainname]] as const) {
    if (val !== undefined && !HOSTNAME_RE.test(val)) throw new UsageError(`${opt}: '${val}' is not a valid name (letters, digits, '.' and '-', at most 64 characters).`);
  }
  try {
    parseCflags(req.flags, "--flag");
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  let caps;
  try {
    caps = applyCapabilityList(req.secure ? DEFAULT_CAPABILITIES : boundingSet() ?? [], req.caps, "--cap");
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  // Never more than we hold: a bounding set only shrinks.
  const held = new Set(boundingSet());
  caps = caps.filter((c) => held.has(c));
  const changesBox = req.secure || req.caps.length > 0 || req.hostname !== undefined || req.domainname !== undefined;

  if (ctx === 1) {
    if (req.hostname !== undefined || req.domainname !== undefined) throw new UsageError("--ctx 1 (the spectator) shares the host's UTS names; --hostname and --domainname do not apply.");
    return runSpectator(req.argv);
  }
  if (process.getuid?.() !== 0) {
    if (ctx !== undefined) throw new UsageError("--ctx: only the host's root chooses context numbers; an ordinary user's box gets none.");
    if (req.caps.length) throw new UsageError("--cap: an ordinary user's box holds no capabilities to add or remove; --secure also forbids gaining any.");
    return runInPersonalBox({ hostname: req.hostname, domainname: req.domainname, secure: req.secure, argv: req.argv, innerArgv: req.innerArgv });
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
      const code = await execInGuest(env, loadGuest(env, ref.name), { argv: req.argv });
      record(env.paths.logDir, { op: "exec", guest: ref.name, context: ctx, ok: true, via: "chcontext", argv0: req.argv[0], exit: code });
      return code;
    }
    if (ref) throw new UsageError(`context ${ctx} is in use by processes that are not a guest's; choose another number.`);
  }
  return runInNewContext(env, {
    context: ctx, caps, hostname: req.hostname, domainname: req.domainname, argv: req.argv,
    announce: req.announce, innerArgv: req.innerArgv,
  });
}
