// Whether a guest has a program, looked up in its root from the host, so that a command for many
// guests can say "this guest has no apt-get" in one line instead of the runtime's exec error.

import { NotFoundError } from "../errors";
import { GuestRoot } from "../drivers/safe-fs";
import type { GuestConfig } from "../pure/config/guest-config";

/** The directories of the PATH the guest's commands get (apps/init/environment, or the default). */
function guestPath(g: GuestConfig): string[] {
  const path = g.environment.find((e) => e.startsWith("PATH="))?.slice(5) ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  return path.split(":").filter((d) => d.startsWith("/"));
}

/**
 * The program is an executable file in the guest: a path as given, a bare name on the guest's
 * PATH. `top` is where the guest's root is seen from the host (control/unify.ts lookupRoot).
 */
export function guestHasProgram(g: GuestConfig, program: string, top = g.vdir): boolean {
  const root = new GuestRoot(top);
  try {
    return program.includes("/") ? root.isExecutable(program) : guestPath(g).some((d) => root.isExecutable(`${d}/${program}`));
  } finally {
    root.close();
  }
}

/** One plain sentence when the guest lacks the program, before anything is run. */
export function requireProgram(g: GuestConfig, program: string, top = g.vdir): void {
  if (!guestHasProgram(g, program, top)) {
    throw new NotFoundError(`guest '${g.name}' has no ${program} (looked ${program.includes("/") ? "at that path" : `in ${guestPath(g).join(":")}`}).`, { guest: g.name });
  }
}

/** The package tools `vserver NAME pkg install` tries, in order, with their install and remove words. */
const PACKAGE_TOOLS: Array<{ tool: string; install: string[]; remove: string[] }> = [
  { tool: "apt-get", install: ["install", "-y"], remove: ["remove", "-y"] },
  { tool: "dnf", install: ["install", "-y"], remove: ["remove", "-y"] },
  { tool: "yum", install: ["install", "-y"], remove: ["remove", "-y"] },
  { tool: "apk", install: ["add"], remove: ["del"] },
  { tool: "zypper", install: ["--non-interactive", "install"], remove: ["--non-interactive", "remove"] },
];

/** The argv that installs or removes packages with the guest's own package tool; undefined when it has none we know. */
export function packageCommand(g: GuestConfig, action: "install" | "remove", packages: string[], top = g.vdir): string[] | undefined {
  const t = PACKAGE_TOOLS.find((p) => guestHasProgram(g, p.tool, top));
  return t && [t.tool, ...t[action], ...packages];
}

/** The argv of `vserver NAME pkg install|remove PKG...`, or the not-found error naming the tools tried. */
export function requirePackageCommand(g: GuestConfig, action: "install" | "remove", packages: string[], top = g.vdir): string[] {
  const argv = packageCommand(g, action, packages, top);
  if (!argv) throw new NotFoundError(`guest '${g.name}' has none of the package tools ${PACKAGE_TOOLS.map((p) => p.tool).join(", ")}.`, { guest: g.name });
  return argv;
}
