// vattribute: a running guest's capabilities and flags (reference §1.2, §3).
//   vattribute --xid N|NAME --get
//   vattribute --xid N|NAME --set [--bcap [~!]CAP]... [--flag [~!]FLAG]...

import { UsageError } from "../errors";
import { makeEnv } from "../control/env";
import { liveTarget } from "../control/live-target";
import { readAttributes, saveAttributes, type AttributeEdits } from "../control/attributes";
import { runMain, warn } from "./main";
import { writeOut, writeErr } from "../drivers/output";
import { OptionLexer } from "./options";
import { ccapMeaning } from "../pure/config/ccaps";

const PROG = "vattribute";

const HELP = `Usage: vattribute --xid N|NAME --get
       vattribute --xid N|NAME --set [--bcap [~!]CAP]... [--ccap [~!]CCAP]... [--flag [~!]FLAG]...

--get prints the bounding set the guest runs with now, what its config gives at the next start
(when that differs) and its context flags.
--set writes bcapabilities and cflags for the next start. The kernel cannot change the bounding
set of running processes from outside (a capability is never added back, and only a process can
drop one from its own set), so nothing changes in the running guest, except the 'private' flag,
which host tools read from the config every time.
--ccap takes the context capabilities a Linux capability covers in the guest's user namespace:
set_rlimit and oom_adjust (SYS_RESOURCE), raw_icmp (NET_RAW); the others are refused with the
reason. --umask has no kernel equivalent and is refused; --secure changes nothing, since every
guest starts from the secure default.
`;

export async function main(argv: string[]): Promise<number> {
  let xid: string | undefined;
  let mode: "get" | "set" = "set";
  let modeGiven = false;
  const edits: AttributeEdits = { bcaps: [], flags: [] };
  const notes: string[] = [];
  const item = (raw: string) => {
    const negate = raw.startsWith("~") || raw.startsWith("!");
    return { name: negate ? raw.slice(1) : raw, negate };
  };
  const words = new OptionLexer(argv);
  for (let a = words.next(); a !== undefined; a = words.next()) {
    const many = (v: string) => v.split(",").map((s) => s.trim()).filter(Boolean).map(item);
    switch (a) {
      case "-h": case "--help":
        writeOut(HELP);
        return 0;
      case "--xid": case "-c": xid = words.value(); break;
      case "--get": mode = "get"; modeGiven = true; break;
      case "--set": mode = "set"; modeGiven = true; break;
      case "--bcap": edits.bcaps.push(...many(words.value())); break;
      case "--flag": edits.flags.push(...many(words.value())); break;
      case "--ccap":
        for (const c of many(words.value())) {
          const m = ccapMeaning(c.name);
          if (!m) throw new UsageError(`--ccap: '${c.name}' is not a context capability.`);
          if ("refused" in m.meaning) throw new UsageError(`--ccap ${m.name}: ${m.meaning.refused}.`);
          edits.bcaps.push({ name: m.meaning.cap, negate: c.negate });
          notes.push(`--ccap ${c.negate ? "~" : ""}${m.name} is the Linux capability ${m.meaning.cap} here (bcapabilities).`);
        }
        break;
      case "--umask":
        throw new UsageError("--umask: unshare masks are not applied; the 'lock' flag (--flag lock) decides whether a guest may make new namespaces.");
      case "--secure":
        warn(PROG, "--secure changes nothing: every guest starts from the secure default capability set.");
        break;
      case "--":
        throw new UsageError("vattribute runs no command; use 'vserver NAME exec' to run one in the guest.");
      default:
        throw new UsageError(a.startsWith("-") ? `unknown option '${a}'. See 'vattribute --help'.` : `unexpected '${a}': vattribute runs no command.`);
    }
  }
  if (xid === undefined) throw new UsageError("no context given; use --xid N or --xid NAME.");
  if (!modeGiven) throw new UsageError("say --get or --set.");
  if (mode === "get" && (edits.bcaps.length || edits.flags.length)) throw new UsageError("--bcap and --flag go with --set, not --get.");
  if (mode === "set" && !edits.bcaps.length && !edits.flags.length) throw new UsageError("--set needs --bcap or --flag.");

  const env = makeEnv();
  const t = liveTarget(env, xid);
  if (mode === "get") {
    const a = readAttributes(env, t);
    const out = [`bcapabilities ${a.live.join(",")}`];
    if (a.nextStart) out.push(`bcapabilities-next-start ${a.nextStart.join(",")}`);
    out.push(`flags ${a.flags.join(",")}`);
    writeOut(out.join("\n") + "\n");
    return 0;
  }
  const r = saveAttributes(env, t, edits);
  for (const n of notes) writeErr(`${PROG}: ${n}\n`);
  for (const f of r.saved) writeErr(`${PROG}: saved ${f}\n`);
  for (const n of r.notes) writeErr(`${PROG}: ${n}\n`);
  return 0;
}

if (import.meta.main) runMain(PROG, main);
