// Capability sets as the kernel shows them (/proc/PID/status CapBnd: a hex mask in bit order) and
// as setpriv takes them (--bounding-set=-all,+chown,...). Pure, so the mapping is unit-tested.

import { ALL_CAPABILITIES, type CapName } from "./config/capabilities";

export function capsFromMask(hex: string): CapName[] {
  const mask = BigInt(`0x${hex.trim() || "0"}`);
  return ALL_CAPABILITIES.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
}

/**
 * setpriv options that leave exactly `keep` in the bounding set and nothing more inheritable,
 * so that neither a setuid-root binary nor file capabilities can bring a dropped one back.
 * `known` is what this kernel has (bits beyond it make setpriv fail).
 */
export function setprivArgs(keep: readonly CapName[], known: readonly CapName[]): string[] {
  const k = new Set(keep);
  const drop = known.filter((c) => !k.has(c)).map((c) => `-${c.toLowerCase()}`);
  if (!drop.length) return [];
  return [`--bounding-set=${drop.join(",")}`, `--inh-caps=${drop.join(",")}`];
}
