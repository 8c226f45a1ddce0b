// Which paths the host's package manager owns: such a directory is the system's, not a guest's.
// dpkg is asked once for all the paths of a question; a host without dpkg owns nothing by this test.

import { run, which } from "./process";

export function ownedByPackages(paths: string[]): Set<string> {
  const owned = new Set<string>();
  if (!paths.length || !which("dpkg-query")) return owned;
  const r = run(["dpkg-query", "--search", "--", ...paths], { timeout: 30 });
  for (const line of r.stdout.split("\n")) {
    // "pkg1, pkg2: /path" (diversions print other lines; they have no ": /" with a known path)
    const i = line.lastIndexOf(": /");
    if (i > 0 && paths.includes(line.slice(i + 2))) owned.add(line.slice(i + 2));
  }
  return owned;
}
