// One line per command: what it is, for the NAME section of its manual page. The rest of each
// page is the command's own --help (help2man, `make install-man`), so page and --help cannot
// disagree. `bun src/cli/descriptions.ts CMD` prints one; every command in commands.ts has one
// (tests/unit/toolbox.test.ts checks).

export const DESCRIPTIONS: Record<string, string> = {
  vserver: "build, start, stop and enter vserver guests",
  "vserver-stat": "one line per running guest: processes, memory, CPU time, uptime",
  vps: "ps for the whole host, with each process's guest",
  vpstree: "pstree for the whole host, with each guest's processes marked",
  vtop: "top for the whole host, with each process's guest",
  vkill: "send a signal to a guest's processes",
  vwait: "wait until a guest has no process left",
  "vserver-info": "facts about guests, contexts and this host, for scripts",
  chcontext: "run a command in a new context, or in a guest",
  reducecap: "run a command with a lowered capability bounding set",
  chbind: "run a host command bound to given addresses",
  vuname: "a running guest's hostname and domain name",
  vlimit: "a running guest's resource limits",
  vattribute: "a guest's capabilities and context flags",
  "start-vservers": "start, stop or show many guests in dependency order",
  vreboot: "restart guests",
  vhalt: "stop guests",
  vsomething: "run a command inside many guests",
  "vapt-get": "run apt-get inside guests",
  vrpm: "run rpm inside guests",
  vyum: "run yum inside guests",
  vmount: "mount into a running guest",
  vspace: "run a command in a guest's namespaces, or in new ones",
  vnamespace: "run a command in a guest's mount namespace, or in a new one",
  "exec-cd": "change into a directory without leaving the current one, then run a command",
  vsched: "a running guest's CPU cap and weight",
  vhashify: "move guests' files into the store shared by all guests",
  vunify: "unify guests through the shared store, or give them plain trees again",
  vdu: "a guest's own disk use against what it shares",
  vdlimit: "a guest's disk limit (btrfs qgroup), live",
  setattr: "set the immutable or append-only attribute",
  showattr: "show the immutable and append-only attributes",
  "vserver-events": "what happened to guests: the journal, or its live stream",
  vserverd: "the host service that keeps the vserver commands loaded",
};

if (import.meta.main) {
  const d = DESCRIPTIONS[process.argv[2] ?? ""];
  if (!d) {
    console.error(`no description for '${process.argv[2]}'`);
    process.exit(1);
  }
  console.log(d);
}
