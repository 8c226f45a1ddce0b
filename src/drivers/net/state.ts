// What networking start made for a guest, written before it is made, so that teardown works from
// the guest's name alone even after a start killed half-way. Plus the shared pieces several
// guests use: host devices whose settings we changed (with their original values) and bridges
// we created.

import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { writeFileAtomic as writeAtomic } from "../atomic-file";
import type { ProxyEntry } from "../../pure/net/plan";
import type { HostAlias } from "../../pure/net/shared";

export interface NetState {
  name: string;
  /** Empty for a guest in shared mode, which stays on the host's stack. */
  netns: string;
  /** Host-side links (veth ends); deleting one removes its peer in the guest. */
  hostLinks: string[];
  proxies: ProxyEntry[];
  /** Host devices whose sysctls this guest relies on, per family: "eth0:4", "eth0:6". */
  uplinks: string[];
  bridges: string[];
  addresses: string[];
  /** Shared mode: the addresses this guest added to host devices (not those the host had). */
  aliases?: HostAlias[];
}

export const netDir = (runDir: string) => `${runDir}/.net`;
export const stateFile = (runDir: string, name: string) => `${netDir(runDir)}/${name}.json`;
// Namespace files live in a directory of their own: it may need a private mount (drivers/private-mount.ts).
export const netnsFile = (runDir: string, name: string) => `${netDir(runDir)}/ns/${name}`;
const uplinkFile = (runDir: string, dev: string) => `${netDir(runDir)}/uplinks/${dev}.json`;
const bridgeMarker = (runDir: string, br: string) => `${netDir(runDir)}/bridges/${br}`;

export function writeNetState(runDir: string, s: NetState): void {
  writeAtomic(stateFile(runDir, s.name), JSON.stringify(s) + "\n");
}

export function readNetState(runDir: string, name: string): NetState | undefined {
  try {
    return JSON.parse(readFileSync(stateFile(runDir, name), "utf8")) as NetState;
  } catch {
    return undefined;
  }
}

export function removeNetState(runDir: string, name: string): void {
  rmSync(stateFile(runDir, name), { force: true });
}

export function allNetStates(runDir: string): NetState[] {
  let names: string[] = [];
  try {
    names = readdirSync(netDir(runDir)).filter((n) => n.endsWith(".json"));
  } catch {
    return [];
  }
  return names.map((n) => readNetState(runDir, n.slice(0, -5))).filter((s): s is NetState => s !== undefined);
}

/** Original values of a host device's sysctls, keyed "4:forwarding", recorded on first change. */
export function readUplinkOriginals(runDir: string, dev: string): Record<string, string> {
  try {
    return JSON.parse(readFileSync(uplinkFile(runDir, dev), "utf8"));
  } catch {
    return {};
  }
}

export function writeUplinkOriginals(runDir: string, dev: string, o: Record<string, string>): void {
  writeAtomic(uplinkFile(runDir, dev), JSON.stringify(o) + "\n");
}

export function removeUplinkOriginals(runDir: string, dev: string): void {
  rmSync(uplinkFile(runDir, dev), { force: true });
}

export function markBridgeCreated(runDir: string, br: string): void {
  writeAtomic(bridgeMarker(runDir, br), "");
}

export function bridgeCreatedByUs(runDir: string, br: string): boolean {
  return existsSync(bridgeMarker(runDir, br));
}

export function unmarkBridge(runDir: string, br: string): void {
  rmSync(bridgeMarker(runDir, br), { force: true });
}
