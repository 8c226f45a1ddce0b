// The C library through koffi, for the system calls Node and Bun lack (openat2, bpf, execvp).
// koffi is a native module that costs ~15 ms to load, so it is loaded on first use only: most
// commands never get here.

export interface Libc {
  /** The koffi module itself, for structs, pointers and addresses. */
  koffi: any;
  /** syscall(2): a number, then type/value pairs ("int", fd, "str", path, ...). */
  syscall(nr: number, ...typedArgs: unknown[]): number;
  errno(): number;
  /** A libc function by its C prototype. */
  func(prototype: string): (...args: unknown[]) => unknown;
}

let cached: Libc | undefined;

export function libc(): Libc {
  if (cached) return cached;
  const koffi = require("koffi");
  const lib = koffi.load("libc.so.6");
  const syscall = lib.func("long syscall(long number, ...)");
  const errnoLoc = lib.func("int *__errno_location()");
  cached = {
    koffi,
    syscall: (nr, ...a) => Number(syscall(nr, ...a)),
    errno: () => koffi.decode(errnoLoc(), "int") as number,
    func: (prototype) => lib.func(prototype),
  };
  return cached;
}

type IoctlBuffer = (fd: number, request: number, arg: Buffer) => number;
let ioctlBuf: IoctlBuffer | undefined;

/**
 * ioctl(2) with a buffer the kernel reads or fills. Through libc, not syscall(): the system call's
 * number differs between architectures (16 on x86-64, 29 on arm64).
 */
export function ioctlBuffer(fd: number, request: number, arg: Buffer): number {
  ioctlBuf ??= libc().func("int ioctl(int fd, unsigned long request, void *arg)") as IoctlBuffer;
  return ioctlBuf(fd, request, arg);
}
