// What the unix-socket programs need from the running kernel, read from its BTF: the id of the
// kfunc that gives them the kernel's view of the socket address, and where the address and its
// length sit in it. Undefined when the kernel has no cgroup unix-socket hooks (before Linux 6.7)
// or no BTF: the caller decides what that means. Reading the 5.5 MB BTF costs ~25 ms, so the
// answer is kept in a file for the rest of this boot (the running kernel's BTF cannot change).

import { readFileSync } from "node:fs";
import { Btf, BtfError } from "../../pure/bpf/btf";
import type { UnixHookFacts } from "../../pure/bpf/host-stack-programs";
import type { RebootWatchOffsets } from "../../pure/bpf/reboot-watch-program";
import { writeFileAtomic } from "../atomic-file";

const VMLINUX_BTF = "/sys/kernel/btf/vmlinux";
const BOOT_ID = "/proc/sys/kernel/random/boot_id";

function readFacts(): UnixHookFacts | undefined {
  let btf: Btf;
  try {
    btf = new Btf(new Uint8Array(readFileSync(VMLINUX_BTF)));
  } catch {
    return undefined;
  }
  try {
    if (btf.enumValue("bpf_attach_type", "BPF_CGROUP_UNIX_CONNECT") === undefined) return undefined;
    return {
      castToKernCtx: btf.funcId("bpf_cast_to_kern_ctx"),
      uaddrOffset: btf.memberOffset("bpf_sock_addr_kern", "uaddr"),
      uaddrlenOffset: btf.memberOffset("bpf_sock_addr_kern", "uaddrlen"),
    };
  } catch (e) {
    if (!(e instanceof BtfError)) throw e;
    return undefined;
  }
}

/** The facts, from `cacheFile` when it was written during this boot. */
export function unixHookFacts(cacheFile?: string): UnixHookFacts | undefined {
  const boot = readFileSync(BOOT_ID, "latin1").trim();
  if (cacheFile) {
    try {
      const c = JSON.parse(readFileSync(cacheFile, "utf8"));
      if (c.boot === boot) return c.facts ?? undefined;
    } catch {}
  }
  const facts = readFacts();
  if (cacheFile) {
    // A cache: a full disk costs the next start the 25 ms again, never this start.
    try { writeFileAtomic(cacheFile, JSON.stringify({ boot, facts: facts ?? null }) + "\n"); } catch {}
  }
  return facts;
}

/** Where the reboot watch (pure/bpf/reboot-watch-program.ts) reads; undefined without BTF. */
export function rebootWatchOffsets(): RebootWatchOffsets | undefined {
  let btf: Btf;
  try {
    btf = new Btf(new Uint8Array(readFileSync(VMLINUX_BTF)));
  } catch {
    return undefined;
  }
  try {
    return {
      taskThreadPid: btf.memberOffset("task_struct", "thread_pid"),
      taskTgid: btf.memberOffset("task_struct", "tgid"),
      pidLevel: btf.memberOffset("pid", "level"),
      pidNumbers: btf.memberOffset("pid", "numbers"),
      upidSize: btf.structSize("upid"),
      upidNs: btf.memberOffset("upid", "ns"),
      pidNsReboot: btf.memberOffset("pid_namespace", "reboot"),
    };
  } catch (e) {
    if (!(e instanceof BtfError)) throw e;
    return undefined;
  }
}
