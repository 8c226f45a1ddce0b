// vserver-events: the event journal, read and followed (docs/api.md#events). It reads the
// journal itself, so it shows what every command and the API did, with or without the service.

import { UsageError } from "../errors";
import { pathsFor } from "../pure/paths";
import { eventMatches, followJournal, readJournalAt, type JournalEntry } from "../drivers/journal-reader";
import { formatEventLine } from "../pure/format/events";
import { writeOut } from "../drivers/output";
import { runMain } from "./main";
import { OptionLexer } from "./options";

const PROG = "vserver-events";

const HELP = `Usage: vserver-events [-f|--follow] [-n N] [--guest NAME]... [--op OP]... [--json]

The journal of every operation and state change: build, start, stop, restart, exec, enter,
delete, limit, attribute, ... and exit (a guest's PID 1 ended: halt from inside, or a crash),
reboot (the guest restarted itself), oom (the kernel's OOM killer killed a process of the
guest), limit-hit (its process limit refused a fork); these three are noticed while the host
service runs. Each with its time, guest, context, outcome and
who asked (uid and pid of the command, "api" for the REST API, "guest" for the guest itself).

  -n N          the last N events (default 20; 0 with --follow: none, only new ones)
  -f, --follow  then wait for new events and print them as they come (^C ends)
  --guest NAME  only these guests (repeatable, or NAME,NAME)
  --op OP       only these operations or state changes (repeatable, or OP,OP)
  --json        one JSON object per line, as kept in the journal
`;

export async function main(argv: string[]): Promise<number> {
  let follow = false;
  let json = false;
  let count = 20;
  const guests: string[] = [];
  const ops: string[] = [];
  const words = new OptionLexer(argv);
  for (let a = words.next(); a !== undefined; a = words.next()) {
    if (a === "-h" || a === "--help") {
      writeOut(HELP);
      return 0;
    } else if (a === "-f" || a === "--follow") follow = true;
    else if (a === "--json") json = true;
    else if (a === "-n") {
      const v = words.value();
      if (!/^\d+$/.test(v)) throw new UsageError(`-n: '${v}' is not a number of events.`);
      count = Number(v);
    } else if (a === "--guest") guests.push(...words.value().split(",").filter(Boolean));
    else if (a === "--op") ops.push(...words.value().split(",").filter(Boolean));
    else throw new UsageError(`${a.startsWith("-") ? `unknown option '${a}'` : `unexpected argument '${a}'`}. See 'vserver-events --help'.`);
  }
  const paths = pathsFor(process.env);
  const show = (evs: JournalEntry[]) => {
    const lines = evs.filter((e) => eventMatches(e, guests, ops)).map((e) => (json ? JSON.stringify(e) : formatEventLine(e)));
    if (lines.length) writeOut(lines.join("\n") + "\n");
  };
  // Following goes on from where the reading ended: nothing is missed or shown twice.
  const { entries, position } = readJournalAt(paths.logDir);
  const past = entries.filter((e) => eventMatches(e, guests, ops));
  if (count) show(past.slice(-count));
  if (!follow) return 0;
  followJournal(paths.logDir, show, { from: position, pollMs: 250 });
  return new Promise<number>(() => {}); // until a signal ends us
}

if (import.meta.main) runMain(PROG, main);
