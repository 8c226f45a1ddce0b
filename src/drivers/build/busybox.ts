// `build -m busybox`: a small working guest from the host's static busybox (like LXC's busybox
// template), with a sysv-style rc so that the default init style starts its services.

import { chmodSync, copyFileSync, mkdirSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import { ToolError } from "../../errors";
import { run } from "../process";
import { BASE_DIRS } from "./guest-tree";

const RC = `#!/bin/sh
# sysv-style rc of a busybox guest: 'rc N' runs /etc/rcN.d/S* with 'start', or for runlevels 0
# and 6 the K* scripts with 'stop'.
rl="$1"
case "$rl" in
  0|6) for s in /etc/rc$rl.d/K*; do [ -x "$s" ] && "$s" stop; done ;;
  *)   for s in /etc/rc$rl.d/S*; do [ -x "$s" ] && "$s" start; done ;;
esac
exit 0
`;

const INITTAB = `::sysinit:/etc/init.d/rc 3
::ctrlaltdel:/bin/umount -a -r
::shutdown:/etc/init.d/rc 6
`;

export function findStaticBusybox(): string {
  for (const p of ["/bin/busybox", "/usr/bin/busybox"]) {
    if (!existsSync(p)) continue;
    const r = run(["file", "-L", p]);
    if (r.code !== 0 || /statically linked|static-pie/.test(r.stdout)) return p;
  }
  throw new ToolError("no static busybox found (/bin/busybox); install busybox-static ('make' does this).");
}

export function populateBusybox(root: string): void {
  const bb = findStaticBusybox();
  for (const d of BASE_DIRS) mkdirSync(`${root}/${d}`, { recursive: true, mode: 0o755 });
  chmodSync(`${root}/tmp`, 0o1777);
  chmodSync(`${root}/root`, 0o700);
  copyFileSync(bb, `${root}/bin/busybox`);
  chmodSync(`${root}/bin/busybox`, 0o755);
  const list = run([bb, "--list-full"]);
  if (list.code !== 0) throw new ToolError(`${bb} --list-full failed: ${list.stderr.trim()}`);
  for (const applet of list.stdout.split("\n").map((l) => l.trim()).filter(Boolean)) {
    const target = `${root}/${applet}`;
    if (existsSync(target) || applet === "bin/busybox") continue;
    const depth = applet.split("/").length - 1;
    symlinkSync(`${"../".repeat(depth)}bin/busybox`, target);
  }
  const files: Record<string, [string, number]> = {
    "etc/passwd": ["root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n", 0o644],
    "etc/group": ["root:x:0:\ntty:x:5:\nnogroup:x:65534:\n", 0o644],
    "etc/shadow": ["root:*:19000:0:99999:7:::\n", 0o600],
    "etc/init.d/rc": [RC, 0o755],
    "etc/inittab": [INITTAB, 0o644],
    "etc/profile": ['export PATH=/bin:/sbin:/usr/bin:/usr/sbin\nPS1="\\h:\\w# "\n', 0o644],
  };
  for (const rl of ["0", "3", "6"]) mkdirSync(`${root}/etc/rc${rl}.d`, { recursive: true });
  for (const [rel, [content, mode]] of Object.entries(files)) {
    mkdirSync(`${root}/${rel.slice(0, rel.lastIndexOf("/"))}`, { recursive: true });
    writeFileSync(`${root}/${rel}`, content, { mode });
    chmodSync(`${root}/${rel}`, mode);
  }
}
