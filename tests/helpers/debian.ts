// Real Debian test guests, built with debootstrap. The packages debootstrap downloads are kept in
// /var/cache/vservers-test, outside every test root, so that later runs on the same machine
// download nothing; each root's cache directory links there. VSERVER_TEST_SUITE picks the suite.

import { lstatSync, mkdirSync, readFileSync, symlinkSync } from "node:fs";
import type { TestHost } from "./host";

export const DEBIAN_SUITE = process.env.VSERVER_TEST_SUITE ?? "bookworm";
export const DEBOOTSTRAP_CACHE = "/var/cache/vservers-test/debootstrap";

/** The cached .deb files of the suite (for a test that installs one again inside a guest). */
export const DEBIAN_PACKAGES = `${DEBOOTSTRAP_CACHE}/${DEBIAN_SUITE}-amd64`;

function linkCache(h: TestHost): void {
  mkdirSync(DEBOOTSTRAP_CACHE, { recursive: true });
  const link = `${h.root}/var/cache/vservers/debootstrap`;
  try {
    lstatSync(link);
    return; // a second Debian guest of the same root
  } catch {}
  mkdirSync(`${h.root}/var/cache/vservers`, { recursive: true });
  symlinkSync(DEBOOTSTRAP_CACHE, link);
}

/**
 * Build guest `name` in `h` with debootstrap (minbase) plus the `include` packages; `buildArgs`
 * are build's own options (--hostname, --initstyle, --quiet). A failed build throws with the end
 * of its build log, which says more than build's one line.
 */
export function debianGuest(h: TestHost, name: string, opts: { include?: string[]; buildArgs?: string[] } = {}): void {
  linkCache(h);
  const include = opts.include?.length ? ["--", `--include=${opts.include.join(",")}`] : [];
  const b = h.run("vserver", [name, "build", "-m", "debootstrap", ...(opts.buildArgs ?? []), "--", "-d", DEBIAN_SUITE, ...include], { timeout: 1800 });
  if (b.code !== 0) {
    let log = "";
    try {
      log = readFileSync(`${h.logDir}/${name}.build.log`, "utf8").slice(-3000);
    } catch {}
    throw new Error(`debootstrap build of '${name}' failed: ${b.stderr}\n${log}`);
  }
}
