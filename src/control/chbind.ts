// chbind: run a host command bound to given addresses (util-vserver's set_ipv4root), with
// cgroup-BPF on the host's own network stack (docs/networking.md, "chbind"). The command is born
// in a fresh cgroup2 directory that carries the programs (a socket's cgroup is fixed when it is
// created, so the command must never run outside it), without CAP_NET_RAW (packet sockets do
// not pass the hooks), and the directory goes away with it.

import type { BindAddress } from "../pure/bpf/addresses";
import { sockAddrPrograms } from "../pure/bpf/sock-addr-programs";
import { loadAndAttach } from "../drivers/bpf/loader";
import { socketProgramFacts } from "../drivers/bpf/kernel-btf";
import { cgroup2Mount, createOwn, moveSelfTo, ownCgroup2Path, removeOwn, sweepStale } from "../drivers/cgroup/chbind-cgroups";
import { signalNumber } from "../drivers/process";
import { ForbiddenError, UsageError } from "../errors";
import { deviceAddresses } from "../drivers/net/ip";
import { isIPv4, isIPv6 } from "../pure/config/interfaces";

/** A network device's name as the kernel allows it, with a letter in it: '10.0.0.300' is a mistyped address, not a device. */
const DEVICE_NAME = /^(?=[^/]*[A-Za-z])[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/;

/**
 * `--ip eth0`, as util-vserver's examples write it: a value that is no address but names a host
 * device stands for that device's addresses, in the order the kernel lists them.
 */
export function expandDeviceNames(values: readonly string[]): string[] {
  return values.flatMap((v) => {
    const addr = v.split("/")[0]!;
    if (isIPv4(addr) || isIPv6(addr) || !DEVICE_NAME.test(v)) return [v];
    const found = deviceAddresses(v);
    if (found === undefined) throw new UsageError(`--ip: '${v}' is neither an address nor a network device of this host.`);
    if (!found.length) throw new UsageError(`--ip: the device '${v}' has no address to bind to.`);
    return found;
  });
}

export interface ChbindRequest {
  addresses: BindAddress[];
  argv: string[];
  cgroupParent: string;
  /** Where the kernel's BTF facts are kept for this boot (drivers/bpf/kernel-btf.ts). */
  factsCache?: string;
  /** Called once the programs are attached, before the command starts. */
  announce?: (addresses: BindAddress[]) => void;
}

/** Drop CAP_NET_RAW for good: from the bounding set, and from the inheritable set so no exec gets it back. */
function withoutNetRaw(argv: string[]): string[] {
  return ["setpriv", "--bounding-set=-net_raw", "--inh-caps=-net_raw", "--", ...argv];
}

/** Run the command; resolves to its exit status (128 + signal number if a signal ended it). */
export async function chbind(req: ChbindRequest): Promise<number> {
  if (process.getuid?.() !== 0) throw new ForbiddenError("chbind must run as root: it creates a cgroup and loads BPF programs.");
  const mount = cgroup2Mount();
  const parentDir = `${mount}/${req.cgroupParent}`;
  sweepStale(parentDir);
  const dir = createOwn(parentDir);
  try {
    loadAndAttach(dir, sockAddrPrograms(req.addresses, { v6onlyBit: socketProgramFacts(req.factsCache).v6onlyBit }));
    req.announce?.(req.addresses);
    const home = `${mount}${ownCgroup2Path()}`.replace(/\/$/, "");
    let child: ReturnType<typeof Bun.spawn>;
    moveSelfTo(dir);
    try {
      child = Bun.spawn(withoutNetRaw(req.argv), { stdin: "inherit", stdout: "inherit", stderr: "inherit", env: process.env as Record<string, string> });
    } finally {
      moveSelfTo(home);
    }
    return await waitForwarding(child);
  } finally {
    removeOwn(dir);
  }
}

/**
 * Wait for the child. A terminal's interrupt already reaches it (same process group), so we only
 * outlive it; TERM and HUP sent to chbind itself are passed on, so that stopping chbind stops the
 * command and the cleanup still runs.
 */
async function waitForwarding(child: ReturnType<typeof Bun.spawn>): Promise<number> {
  const ignore = () => {};
  const forward = (sig: NodeJS.Signals) => () => {
    try {
      child.kill(sig);
    } catch {}
  };
  const handlers: Array<[NodeJS.Signals, () => void]> = [
    ["SIGINT", ignore], ["SIGQUIT", ignore], ["SIGTERM", forward("SIGTERM")], ["SIGHUP", forward("SIGHUP")],
  ];
  for (const [s, h] of handlers) process.on(s, h);
  try {
    const code = await child.exited;
    return child.signalCode ? 128 + signalNumber(String(child.signalCode)) : code;
  } finally {
    for (const [s, h] of handlers) process.off(s, h);
  }
}
