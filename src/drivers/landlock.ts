// Whether this kernel's Landlock can scope abstract unix sockets to a domain (Landlock ABI 6,
// Linux 6.12): a guest on the host's stack then reaches only the abstract sockets its own
// processes made, and the cgroup programs need not refuse every abstract name
// (docs/networking.md, "Guests on the host's stack").

import { libc } from "./libc";

/** landlock_create_ruleset(2) has one number on every architecture (the unified table). */
const SYS_landlock_create_ruleset = 444;
const LANDLOCK_CREATE_RULESET_VERSION = 1;
/** The ABI that added `scoped` and LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET. */
const ABSTRACT_UNIX_SCOPE_ABI = 6;

let abi: number | undefined;

/** The running kernel's Landlock ABI; 0 when Landlock is absent or disabled. */
export function landlockAbi(): number {
  if (abi === undefined) {
    const v = libc().syscall(SYS_landlock_create_ruleset, "void *", null, "size_t", 0, "uint32_t", LANDLOCK_CREATE_RULESET_VERSION);
    abi = v > 0 ? v : 0;
  }
  return abi;
}

export function abstractUnixScopeAvailable(): boolean {
  return landlockAbi() >= ABSTRACT_UNIX_SCOPE_ABI;
}
