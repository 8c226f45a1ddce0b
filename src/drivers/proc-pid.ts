// A process's identity over time: its PID plus its start time (field 22 of /proc/PID/stat), so a
// PID that the kernel gave to another process since is not taken for the one we knew.

import { closeSync, readFileSync, readlinkSync } from "node:fs";
import { libc } from "./libc";

/** The start time of a live process; undefined when it is gone or a zombie. */
export function procStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (f[0] === "Z" || f[0] === "X") return undefined;
    return f[19];
  } catch {
    return undefined;
  }
}

/**
 * Is the process in the foreground of its controlling terminal (or without one)? A background
 * job that changes the terminal's mode is stopped by SIGTTOU, and one that reads it would take
 * the foreground's input.
 */
export function inForeground(pid: number | "self"): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // After the name: state, ppid, pgrp, session, tty_nr, tpgid.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const tpgid = Number(f[5]);
    return tpgid === -1 || tpgid === Number(f[2]);
  } catch {
    return true;
  }
}

// pidfd_open and pidfd_send_signal have the same numbers on every architecture (asm-generic).
const SYS_pidfd_open = 434;
const SYS_pidfd_send_signal = 424;

/**
 * Signal the process we knew as PID with this start time, and no other: a PID the kernel gave to
 * a new process since is left alone. The pidfd pins the process between the identity check and
 * the signal, so a PID reused in that window cannot receive it either. Signals are numbers,
 * since Bun's process.kill does not know every name (SIGPWR). Returns false when it was gone.
 */
export function signalProcess(pid: number, startTime: string, signal: number): boolean {
  const { syscall } = libc();
  const fd = syscall(SYS_pidfd_open, "int", pid, "uint", 0);
  if (fd < 0) return false;
  try {
    if (procStartTime(pid) !== startTime) return false;
    return syscall(SYS_pidfd_send_signal, "int", fd, "int", signal, "void *", null, "uint", 0) === 0;
  } finally {
    closeSync(fd);
  }
}

const CONFINEMENT_FIELDS = ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp"];
const NAMESPACES = ["user", "mnt", "pid", "net", "uts", "ipc", "cgroup", "time"];

/**
 * What confines a process beyond its uid: its capability sets, no_new_privs, seccomp mode and
 * namespaces, as one comparable text; undefined when the process is gone. Two processes with the
 * same text may do the same things (up to cgroup-bound rules such as chbind's).
 */
export function confinementOf(pid: number | "self"): string | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "latin1");
    const fields = CONFINEMENT_FIELDS.map((f) => new RegExp(`^${f}:\\s*(.*)$`, "m").exec(status)?.[1] ?? "-");
    const ns = NAMESPACES.map((n) => {
      try {
        return readlinkSync(`/proc/${pid}/ns/${n}`);
      } catch {
        return "-";
      }
    });
    return [...fields, ...ns].join(" ");
  } catch {
    return undefined;
  }
}
