// A process's exit status, learnt without being its parent. A guest's PID 1 is reparented to the
// host's init once the runtime has started it, so no command of ours can wait(2) for it. While it
// is a zombie, /proc/PID/stat shows its exit code; once reaped, a pidfd opened while it ran still
// holds it (PIDFD_INFO_EXIT, Linux 6.15). The pidfd also keeps the PID from being reused while
// it is a zombie, so the /proc entry read is the one we watch.

import { closeSync, readFileSync } from "node:fs";
import { ioctlBuffer, libc } from "./libc";
import { procStartTime } from "./proc-pid";

const SYS_pidfd_open = 434;
/** _IOWR(PIDFS_IOCTL_MAGIC 0xFF, 11, struct pidfd_info) with the 64-byte first version of the struct. */
const PIDFD_GET_INFO = 0xc040ff0b;
const PIDFD_INFO_EXIT = 1n << 3n;
const INFO_SIZE = 64;
/** Offset of exit_code in struct pidfd_info (after mask, cgroupid and eleven u32 ids). */
const EXIT_CODE_OFFSET = 60;

export interface ExitWatch {
  /** The exit status once the process has ended and the kernel kept it: an exit code, or 128 + signal. */
  status(): number | undefined;
  close(): void;
}

/** Watch the process we knew as PID with this start time; undefined when it is already gone. */
export function watchExit(pid: number, startTime: string): ExitWatch | undefined {
  const { syscall } = libc();
  const fd = syscall(SYS_pidfd_open, "int", pid, "uint", 0);
  if (fd < 0) return undefined;
  if (procStartTime(pid) !== startTime) {
    closeSync(fd);
    return undefined;
  }
  const buf = Buffer.alloc(INFO_SIZE);
  const reaped = (): number | undefined => {
    buf.fill(0);
    buf.writeBigUInt64LE(PIDFD_INFO_EXIT, 0);
    if (ioctlBuffer(fd, PIDFD_GET_INFO, buf) !== 0) return undefined;
    return buf.readBigUInt64LE(0) & PIDFD_INFO_EXIT ? buf.readInt32LE(EXIT_CODE_OFFSET) : undefined;
  };
  return {
    status() {
      const ws = zombieExitCode(pid, startTime) ?? reaped();
      if (ws === undefined) return undefined;
      const signal = ws & 0x7f;
      return signal === 0 ? (ws >> 8) & 0xff : 128 + signal;
    },
    close() {
      closeSync(fd);
    },
  };
}

/** Field 52 (exit_code, in waitpid's form) of a zombie's /proc/PID/stat, if PID is that zombie. */
function zombieExitCode(pid: number, startTime: string): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (f[0] !== "Z" || f[19] !== startTime) return undefined;
    const code = Number(f[49]);
    return Number.isInteger(code) ? code : undefined;
  } catch {
    return undefined;
  }
}
