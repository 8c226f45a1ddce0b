// What the unix-socket programs need from the running kernel, read from its BTF: the id of the
// kfunc that gives them the kernel's view of the socket address, and where the address and its
// length sit in it. Undefined when the kernel has no cgroup unix-socket hooks (before Linux 6.7)
// or no BTF: the caller decides what that means.

import { readFileSync } from "node:fs";
import { Btf, BtfError } from "../../pure/bpf/btf";
import type { UnixHookFacts } from "../../pure/bpf/host-stack-programs";

const VMLINUX_BTF = "/sys/kernel/btf/vmlinux";

let cached: { facts?: UnixHookFacts } | undefined;

export function unixHookFacts(): UnixHookFacts | undefined {
  if (cached) return cached.facts;
  cached = {};
  let btf: Btf;
  try {
    btf = new Btf(new Uint8Array(readFileSync(VMLINUX_BTF)));
  } catch {
    return undefined;
  }
  try {
    if (btf.enumValue("bpf_attach_type", "BPF_CGROUP_UNIX_CONNECT") === undefined) return undefined;
    cached.facts = {
      castToKernCtx: btf.funcId("bpf_cast_to_kern_ctx"),
      uaddrOffset: btf.memberOffset("bpf_sock_addr_kern", "uaddr"),
      uaddrlenOffset: btf.memberOffset("bpf_sock_addr_kern", "uaddrlen"),
    };
  } catch (e) {
    if (!(e instanceof BtfError)) throw e;
  }
  return cached.facts;
}
