// vuname: get and set a running guest's UTS fields (reference §1.2, §2.2 uts/).
//   vuname [-g] --xid N|NAME [TAG...]
//   vuname -s --xid N|NAME -t TAG=VALUE... [--save]
//   vuname --dir DIR --xid N|NAME [--missingok] [--save]

import { existsSync, readFileSync } from "node:fs";
import { NotFoundError, UsageError } from "../errors";
import { makeEnv } from "../control/env";
import { liveTarget } from "../control/live-target";
import { readUts, setUts } from "../control/uts";
import { parseUtsTag, UTS_TAGS, type UtsTag } from "../pure/live-settings";
import { runMain } from "./main";
import { writeOut, writeErr } from "../drivers/output";
import { parseOptions } from "./options";

const PROG = "vuname";

const HELP = `Usage: vuname [-g] --xid N|NAME [TAG...]
       vuname -s --xid N|NAME -t TAG=VALUE... [--save]
       vuname --dir DIR --xid N|NAME [--missingok] [--save]

TAG is one of: ${UTS_TAGS.join(" ")}.
  -g            print the values, space-separated on one line (all tags without TAG)
  -s -t T=V     set T to V in the running guest
  --dir DIR     set every TAG that has a file DIR/<tag> (as 'vuname --dir uts' at start)
  --missingok   with --dir: a missing DIR is not an error
  --save        also write the value into the guest's config (uts/<tag>)
Only nodename and domainname belong to a guest (its UTS namespace); they change live. sysname,
release and version are the host kernel's and cannot differ per guest; machine can be the host's
32-bit one through the guest's uts/machine file, applied at its start. 'context' is the guest's
config directory.
`;

export async function main(argv: string[]): Promise<number> {
  const parsed = await parseOptions("vuname", argv, {
        xid: { type: "string" }, get: { type: "boolean", short: "g" }, set: { type: "boolean", short: "s" },
        tag: { type: "string", short: "t", multiple: true }, dir: { type: "string" }, missingok: { type: "boolean" },
        save: { type: "boolean" }, help: { type: "boolean", short: "h" },
      },);
  const { values: v, positionals } = parsed;
  if (v.help) {
    writeOut(HELP);
    return 0;
  }
  if (v.xid === undefined) throw new UsageError("no context given; use --xid N or --xid NAME.");
  const tagOf = (raw: string, opt: string): UtsTag => {
    const t = parseUtsTag(raw);
    if (!t) throw new UsageError(`${opt}'${raw}' is not a tag (one of ${UTS_TAGS.join(", ")}).`);
    return t;
  };

  const sets: Array<[UtsTag, string]> = [];
  if (v.dir !== undefined) {
    if (v.set || v.tag?.length) throw new UsageError("--dir reads the values from files; it does not go with -s or -t.");
    if (positionals.length) throw new UsageError(`unexpected '${positionals[0]}': vuname runs no command.`);
    if (!existsSync(v.dir)) {
      if (v.missingok) return 0;
      throw new NotFoundError(`--dir: ${v.dir} does not exist.`);
    }
    for (const tag of UTS_TAGS) {
      const f = `${v.dir}/${tag}`;
      if (existsSync(f)) sets.push([tag, readFileSync(f, "utf8").replace(/\n+$/, "")]);
    }
  } else if (v.set || v.tag?.length) {
    if (!v.set) throw new UsageError("-t sets a value only with -s.");
    if (v.get) throw new UsageError("-g and -s do not go together.");
    if (!v.tag?.length) throw new UsageError("-s needs at least one -t TAG=VALUE.");
    if (positionals.length) throw new UsageError(`unexpected '${positionals[0]}': vuname runs no command.`);
    for (const t of v.tag) {
      const eq = t.indexOf("=");
      if (eq < 0) throw new UsageError(`-t '${t}': expected TAG=VALUE.`);
      sets.push([tagOf(t.slice(0, eq), "-t "), t.slice(eq + 1)]);
    }
  } else {
    if (v.save) throw new UsageError("--save goes with -s or --dir.");
    const tags = positionals.length ? positionals.map((p) => tagOf(p, "")) : [...UTS_TAGS];
    const env0 = makeEnv();
    const uts = readUts(env0, liveTarget(env0, v.xid));
    writeOut(tags.map((t) => uts[t]).join(" ") + "\n");
    return 0;
  }
  const env = makeEnv();
  const t = liveTarget(env, v.xid);
  const saved = setUts(env, t, sets, !!v.save);
  for (const f of saved) writeErr(`${PROG}: saved ${f}\n`);
  return 0;
}

if (import.meta.main) runMain(PROG, main);
