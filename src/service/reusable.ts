// Which requests a worker of the host service may serve inside its own process and then wait for
// the next (service/worker.ts), instead of serving one command and exiting. Serving many per
// process is what makes a burst of small calls cheap: no runtime start, and code the runtime has
// already compiled. It holds only for commands that leave nothing behind in the process: they
// read and report, write their output through drivers/output.ts (synchronous), start no process
// that outlives them, install no signal handler or timer, call no process.exit, and keep no
// module state but the host's facts (a guest's config is read anew by every command: its Env
// holds the `.defaults` it read). The views are such commands, and so is vkill, which only reads
// /proc and the cgroups and sends signals (its freeze of a guest is undone before it returns).
// Anything else (and any form of these not listed, with options this list does not name) runs as
// before: one command, then the worker exits, so that a command's own assumptions about its
// process stay true.

/** `vserver` forms that only read: the guest list, and one guest's state. */
function readOnlyVserver(args: string[]): boolean {
  if (args[0] === "--list") return args.length === 1 || (args.length === 2 && args[1] === "--json");
  if (args.length < 2 || args[0]!.startsWith("-")) return false;
  const [, verb, ...rest] = args;
  if (verb === "running") return rest.length === 0;
  if (verb === "status") return rest.length === 0 || (rest.length === 1 && rest[0] === "--json");
  return false;
}

export function reusableRequest(command: string, args: string[]): boolean {
  switch (command) {
    case "vserver-stat":
    case "vps":
    case "vserver-info":
    case "vkill":
      return true;
    case "vserver":
      return readOnlyVserver(args);
    default:
      return false;
  }
}
