// Per-guest traffic counters for vserver-stat: /proc/PID/net/dev of the guest's PID 1 is its own
// namespace's view, whatever the mode, so this needs neither nsenter nor our state files.

import { readFileSync } from "node:fs";

export interface NetCounters {
  rxBytes: number;
  rxPackets: number;
  txBytes: number;
  txPackets: number;
}

/** Sums every link but loopback; undefined when the process is gone. */
export function guestNetCounters(pid: number): NetCounters | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/net/dev`, "utf8");
  } catch {
    return undefined;
  }
  const c: NetCounters = { rxBytes: 0, rxPackets: 0, txBytes: 0, txPackets: 0 };
  for (const line of text.split("\n").slice(2)) {
    const colon = line.indexOf(":");
    if (colon < 0 || line.slice(0, colon).trim() === "lo") continue;
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    c.rxBytes += f[0]!;
    c.rxPackets += f[1]!;
    c.txBytes += f[8]!;
    c.txPackets += f[9]!;
  }
  return c;
}
