// What hand-assembled programs need from the running kernel, read from its BTF (the lookups that
// libbpf's CO-RE relocations would do at load time). Each answer is undefined when the kernel
// lacks the feature or has no BTF: the caller decides what that means.
//
// The socket programs are built at every guest start. Reading the 5.5 MB BTF costs ~25 ms, so
// their facts are kept in a file for the rest of this boot (the running kernel's BTF cannot
// change). The reboot watch is loaded once per boot and reads the BTF itself.

import { readFileSync } from "node:fs";
import { Btf, BtfError } from "../../pure/bpf/btf";
import type { UnixHookFacts } from "../../pure/bpf/host-stack-programs";
import type { RebootWatchOffsets } from "../../pure/bpf/reboot-watch-program";
import { writeFileAtomic } from "../atomic-file";

const VMLINUX_BTF = "/sys/kernel/btf/vmlinux";
const BOOT_ID = "/proc/sys/kernel/random/boot_id";

/** What the socket programs of guests and chbind read from the kernel's BTF. */
export interface SocketProgramFacts {
  /** For the unix-socket hooks (Linux 6.7 and later). */
  unix?: UnixHookFacts;
  /** Bit offset of `skc_ipv6only` in struct sock_common: bind6 tells a v6-only socket by it. */
  v6onlyBit?: number;
}

/** Run `read` on the kernel's BTF; undefined when there is none or it lacks what `read` names. */
function fromVmlinux<T>(read: (btf: Btf) => T | undefined): T | undefined {
  let btf: Btf;
  try {
    btf = new Btf(new Uint8Array(readFileSync(VMLINUX_BTF)));
  } catch {
    return undefined;
  }
  return orUndefined(() => read(btf));
}

function orUndefined<T>(read: () => T | undefined): T | undefined {
  try {
    return read();
  } catch (e) {
    if (!(e instanceof BtfError)) throw e;
    return undefined;
  }
}

function readSocketFacts(btf: Btf): SocketProgramFacts {
  return {
    unix: orUndefined(() => {
      if (btf.enumValue("bpf_attach_type", "BPF_CGROUP_UNIX_CONNECT") === undefined) return undefined;
      return {
        castToKernCtx: btf.funcId("bpf_cast_to_kern_ctx"),
        uaddrOffset: btf.memberOffset("bpf_sock_addr_kern", "uaddr"),
        uaddrlenOffset: btf.memberOffset("bpf_sock_addr_kern", "uaddrlen"),
      };
    }),
    v6onlyBit: orUndefined(() => btf.memberBitOffset("sock_common", "skc_ipv6only")),
  };
}

/** The facts, from `cacheFile` when it was written during this boot. */
export function socketProgramFacts(cacheFile?: string): SocketProgramFacts {
  const boot = readFileSync(BOOT_ID, "latin1").trim();
  if (cacheFile) {
    try {
      const c = JSON.parse(readFileSync(cacheFile, "utf8"));
      if (c.boot === boot && c.facts) return c.facts;
    } catch {}
  }
  const facts = fromVmlinux(readSocketFacts) ?? {};
  if (cacheFile) {
    // A cache: a full disk costs the next start the 25 ms again, never this start.
    try { writeFileAtomic(cacheFile, JSON.stringify({ boot, facts }) + "\n"); } catch {}
  }
  return facts;
}

/** Where the reboot watch (pure/bpf/reboot-watch-program.ts) reads; undefined without BTF. */
export function rebootWatchOffsets(): RebootWatchOffsets | undefined {
  return fromVmlinux((btf) => ({
    taskThreadPid: btf.memberOffset("task_struct", "thread_pid"),
    taskTgid: btf.memberOffset("task_struct", "tgid"),
    pidLevel: btf.memberOffset("pid", "level"),
    pidNumbers: btf.memberOffset("pid", "numbers"),
    upidSize: btf.structSize("upid"),
    upidNs: btf.memberOffset("upid", "ns"),
    pidNsReboot: btf.memberOffset("pid_namespace", "reboot"),
  }));
}
