// Shared mode (util-vserver's ipv4root): the guest stays on the host's network stack and its
// addresses become aliases on host devices, labelled DEV:NAME as util-vserver labelled them.
// An address without a device (nodev) must already be the host's: the guest is only bound to it.

import type { GuestAddress } from "../config/interfaces";

export interface HostAlias {
  ip: string;
  prefix: number;
  dev: string;
  /** DEV:NAME, or none when it would not fit the kernel's 15 characters. */
  label?: string;
  family: 4 | 6;
}

/** The aliases to add for a guest: the `name` file labels them, else the guest's name if it fits. */
export function hostAliases(addresses: readonly GuestAddress[], guest: string): HostAlias[] {
  return addresses.flatMap((a) => {
    if (!a.dev) return [];
    const name = a.label ?? guest;
    const label = a.dev.length + 1 + name.length <= 15 && /^[A-Za-z0-9_-]+$/.test(name) ? `${a.dev}:${name}` : undefined;
    return [{ ip: a.ip, prefix: a.prefix, dev: a.dev, family: a.family, ...(label && a.family === 4 ? { label } : {}) }];
  });
}

/**
 * `ip -batch` lines. IPv6 addresses are added without duplicate address detection: a tentative
 * address cannot be bound, and the guest's services start right away. (IPv6 has no labels.)
 */
export function aliasAddLines(aliases: readonly HostAlias[]): string[] {
  return aliases.map((a) => `address add ${a.ip}/${a.prefix} dev ${a.dev}${a.label ? ` label ${a.label}` : ""}${a.family === 6 ? " nodad" : ""}`);
}

export function aliasDelLine(a: HostAlias): string {
  return `address del ${a.ip}/${a.prefix} dev ${a.dev}`;
}
