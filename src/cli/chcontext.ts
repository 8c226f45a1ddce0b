// chcontext [--ctx N] [--secure] [--cap [!]CAP]... [--hostname H] [--domainname D] [--flag F]...
//           [--silent] [--] CMD...          (reference §1.2; design in docs/host-views.md)

import { UsageError } from "../errors";
import { makeEnv } from "../control/env";
import { chcontext } from "../control/chcontext";
import { enterNewContext } from "../control/new-context";
import { runMain } from "./main";
import { writeOut, writeErr } from "../drivers/output";
import { parseOptions, splitAtCommand } from "./options";

const PROG = "chcontext";

const HELP = `Usage: chcontext [OPTIONS] [--] CMD [ARGS...]

Without --ctx: run CMD in a new context (the next free number from 49152, printed on stderr
unless --silent) with the host's file system but its own process space, UTS and IPC. CMD is
the context's PID 1; when it ends, every process left in the context ends too. The options
end at the first word that is not one (or at --).

Run by an ordinary user, the new context is a personal security box: CMD runs as that user in
user, PID, mount, UTS and IPC namespaces of its own, sees only its own processes and holds no
capability; no setuid helper is involved.
  --ctx N         (root) use context number N for the new context; if a guest runs at N, run
                  CMD in that guest instead (as 'vserver NAME exec'); N = 1 is the spectator:
                  CMD sees every process on the host but can signal none of them
  --secure        keep only util-vserver's safe capabilities (the guests' default set); in a
                  user's box: nothing below CMD may gain privileges (no_new_privs)
  --cap [!]CAP    (root) add CAP to (or with !, remove it from) the bounding set; repeatable
  --hostname H, --domainname D   the new context's UTS names
  --flag F        a context flag (checked; the new context is always a fresh PID namespace)
  --silent        do not print the new context number
`;

const VALUE_OPTIONS = new Set(["--ctx", "--xid", "--cap", "--hostname", "--domainname", "--flag"]);

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === "--inner") return enterNewContext(argv.slice(1));
  const { own, cmd } = splitAtCommand(argv, VALUE_OPTIONS);
  if (own.some((a) => a === "--spaces" || a.startsWith("--spaces="))) {
    throw new UsageError("--spaces: a new context always gets its own PID, mount, UTS, IPC and cgroup namespaces (and a user namespace for an ordinary user); there is no mask to choose.");
  }
  const { values: v } = await parseOptions("chcontext", own, {
    ctx: { type: "string" }, xid: { type: "string" }, secure: { type: "boolean" }, cap: { type: "string", multiple: true },
    hostname: { type: "string" }, domainname: { type: "string" }, flag: { type: "string", multiple: true },
    silent: { type: "boolean" }, disconnect: { type: "boolean" }, help: { type: "boolean", short: "h" },
  }, false);
  if (v.help) {
    writeOut(HELP);
    return 0;
  }
  return chcontext(makeEnv(), {
    ctx: v.ctx ?? v.xid, secure: !!v.secure, caps: v.cap ?? [], hostname: v.hostname, domainname: v.domainname,
    flags: v.flag ?? [], argv: cmd,
    announce: v.silent ? undefined : (n) => writeErr(`New security context is ${n}\n`),
    innerArgv: [process.execPath, process.argv[1]!, "--inner"],
  });
}

if (import.meta.main) runMain(PROG, main);
