// Setting the UTS names of the namespace this process is in, by system call: in a user namespace
// of its own, root may set them (CAP_SYS_ADMIN over the UTS namespace), but the /proc/sys files
// stay the host root's and refuse it.

import { ToolError } from "../errors";
import { libc } from "./libc";

function setName(fn: "sethostname" | "setdomainname", name: string): void {
  const call = libc().func(`int ${fn}(const char *name, size_t len)`);
  const bytes = Buffer.from(name);
  if (call(name, bytes.length) !== 0) throw new ToolError(`${fn} '${name}' failed (errno ${libc().errno()}).`);
}

export function setUtsNames(hostname?: string, domainname?: string): void {
  if (hostname) setName("sethostname", hostname);
  if (domainname) setName("setdomainname", domainname);
}
