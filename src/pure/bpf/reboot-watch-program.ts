// The program that remembers how a guest's PID namespace was rebooted. When a process calls
// reboot(2) in a PID namespace other than the host's, the kernel stores SIGHUP (restart) or SIGINT
// (halt, power-off) in the namespace, kills its init, and reports that signal as the init's exit
// status to its parent. A `plain` guest's init has no parent of ours (the host's init reaps it), so
// this program, on the sched_process_exit tracepoint, copies the namespace's word into a map keyed
// by the init's host PID, for the host's next look (control/exited.ts). It reads kernel memory
// only through bpf_probe_read_kernel, so it works on a kernel in lockdown's integrity mode, where
// fentry and kprobes are refused.

import { add64Imm, add64Reg, call, exit, jgt32, jne32, jeq32, label, ldMapFd, ldx, lsh64Imm, mov64Imm, mov64Reg, type Item, R0, R1, R2, R3, R4, R6, R7, R10 } from "./insn";

/** Where the program finds what it reads, from the running kernel's BTF (drivers/bpf/kernel-btf.ts). */
export interface RebootWatchOffsets {
  /** task_struct.thread_pid (struct pid *) and task_struct.tgid. */
  taskThreadPid: number;
  taskTgid: number;
  /** pid.level and pid.numbers (struct upid[]: int nr, then the namespace pointer). */
  pidLevel: number;
  pidNumbers: number;
  upidSize: number;
  upidNs: number;
  /** pid_namespace.reboot: 0, or the signal reboot(2) left there. */
  pidNsReboot: number;
}

const BPF_FUNC_map_update_elem = 2;
const BPF_FUNC_probe_read_kernel = 113;
/** Deepest PID namespace nesting the kernel allows (MAX_PID_NS_LEVEL). */
const MAX_LEVEL = 32;

/** r1 = stack slot `slot`, r2 = size, r3 = r`base` + off; then bpf_probe_read_kernel. */
function readKernel(slot: number, size: number, base: number, off: number): Item[] {
  return [mov64Reg(R1, R10), add64Imm(R1, slot), mov64Imm(R2, size), mov64Reg(R3, base), add64Imm(R3, off), call(BPF_FUNC_probe_read_kernel)];
}

/**
 * The raw tracepoint program: for an exiting task that is PID 1 of its innermost namespace and
 * whose namespace holds a reboot signal, map[host tgid] = that signal. A read that fails leaves
 * zeros, which fail the checks: nothing is written then.
 */
export function rebootWatchProgram(o: RebootWatchOffsets, mapFd: number): Item[] {
  if (o.upidSize !== 16) throw new Error(`struct upid is ${o.upidSize} bytes, not 16`);
  return [
    ldx("dw", R6, R1, 0), // the exiting task
    ...readKernel(-8, 8, R6, o.taskThreadPid),
    ldx("dw", R7, R10, -8), // its struct pid
    ...readKernel(-16, 4, R7, o.pidLevel),
    ldx("w", R2, R10, -16),
    jgt32(R2, MAX_LEVEL, "out"),
    lsh64Imm(R2, 4), // × sizeof(struct upid)
    add64Reg(R7, R2), // &numbers[level] - numbers
    ...readKernel(-32, 16, R7, o.pidNumbers), // { nr, ns } in the innermost namespace
    ldx("w", R2, R10, -32),
    jne32(R2, 1, "out"),
    ldx("dw", R7, R10, -32 + o.upidNs),
    ...readKernel(-40, 4, R7, o.pidNsReboot),
    ldx("w", R2, R10, -40),
    jeq32(R2, 0, "out"),
    ...readKernel(-48, 4, R6, o.taskTgid),
    ...ldMapFd(R1, mapFd),
    mov64Reg(R2, R10),
    add64Imm(R2, -48),
    mov64Reg(R3, R10),
    add64Imm(R3, -40),
    mov64Imm(R4, 0),
    call(BPF_FUNC_map_update_elem),
    label("out"),
    mov64Imm(R0, 0),
    exit(),
  ];
}
