// chbind [--ip ADDR[/PREFIX]]... [--silent] -- CMD...
// CMD (and everything it starts) may only use the given addresses: wildcard binds get the first
// one, binds to other addresses fail, connections and UDP sends leave from it (reference §1.2).

import { UsageError } from "../errors";
import { parseBindAddresses } from "../pure/bpf/addresses";
import { pathsFor } from "../pure/paths";
import { chbind, expandDeviceNames } from "../control/chbind";
import { runMain } from "./main";
import { writeOut, writeErr } from "../drivers/output";

const PROG = "chbind";

const HELP = `Usage: chbind [--silent] --ip ADDR[/PREFIX] [--ip ADDR]... [--] CMD [ARGS...]

Run CMD on the host, bound to the given IPv4 and IPv6 addresses, for it and every process it starts:
  - a bind to 0.0.0.0 gets the first IPv4 address, a bind to :: the first address given
    (an IPv4 one as ::ffff:A.B.C.D), or on a v6-only socket (IPV6_V6ONLY) the first IPv6
    one; a bind to any other address fails (EPERM), 127.0.0.1 included
  - connections and unconnected UDP sends leave from the first address of their family;
    a family with no address given cannot be used
  - CMD runs without CAP_NET_RAW
  --secure      accepted: the command never has CAP_NET_RAW anyway
  --ip ADDR     an address CMD may use (repeatable; the prefix is accepted and ignored); a
                device name (--ip eth0) stands for that device's addresses
  --silent      do not print the bound addresses
Exit status: CMD's, or 128+N if signal N ended it.
`;

/** util-vserver's other chbind options, and why they have no meaning here. */
const REFUSED: Record<string, string> = {
  "--nid": "network contexts have no numbers here; each chbind command gets a cgroup of its own that carries the address rules.",
  "--lback": "a chbind command keeps the host's loopback; a loopback address of its own is for guests on the host's stack (interfaces/lback).",
  "--bcast": "a broadcast address belongs to an address on a device; chbind only restricts which addresses the command may use.",
  "--ncap": "network capabilities are gone; the command runs without CAP_NET_RAW, and that is all chbind changes.",
  "--flag": "network context flags are gone; the address rules are the only thing chbind sets.",
  "--disconnect": "chbind waits for its command and returns its exit status; detach it with setsid or nohup instead.",
};

export async function main(argv: string[]): Promise<number> {
  const ips: string[] = [];
  let silent = false;
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      i++;
      break;
    }
    if (a === "--help" || a === "-h") {
      writeOut(HELP);
      return 0;
    }
    if (a === "--silent") silent = true;
    else if (a === "--ip") {
      const v = argv[++i];
      if (v === undefined || v === "") throw new UsageError("--ip needs an address, as in --ip 192.0.2.10.");
      ips.push(v);
    } else if (a.startsWith("--ip=")) ips.push(a.slice(5));
    else if (a === "--secure") continue; // always: the command never has CAP_NET_RAW
    else if (REFUSED[a.split("=")[0]!]) throw new UsageError(`${a.split("=")[0]}: ${REFUSED[a.split("=")[0]!]}`);
    else if (a.startsWith("-")) throw new UsageError(`unknown option '${a}'. See 'chbind --help'.`);
    else break;
  }
  const cmd = argv.slice(i);
  if (!ips.length) throw new UsageError("--ip is required: give at least one address for the command.");
  const addresses = parseBindAddresses(expandDeviceNames(ips));
  if (!cmd.length) throw new UsageError("no command given; usage: chbind --ip ADDR -- CMD.");
  const paths = pathsFor(process.env);
  return chbind({
    addresses,
    argv: cmd,
    cgroupParent: paths.cgroupParent,
    factsCache: `${paths.runDir}/.bpf/socket-facts.json`,
    announce: silent ? undefined : (a) => writeErr(`Bound to ${a.map((x) => x.text).join(" ")}\n`),
  });
}

if (import.meta.main) runMain(PROG, main);
