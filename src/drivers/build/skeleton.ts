// `build -m skeleton`: the directory tree and config only, optionally filled by a command the
// admin gives (an external bootstrapper), run on the host with the new root as its directory.

import { chmodSync, mkdirSync } from "node:fs";
import { ToolError } from "../../errors";
import { runInteractive } from "../process";
import { BASE_DIRS } from "./guest-tree";

export async function populateSkeleton(root: string, command: string[], quiet: boolean): Promise<void> {
  for (const d of BASE_DIRS) mkdirSync(`${root}/${d}`, { recursive: true, mode: 0o755 });
  chmodSync(`${root}/tmp`, 0o1777);
  if (!command.length) return;
  const code = await runInteractive(command, {
    cwd: root,
    env: { ...process.env, VSERVER_DIR: root },
    stdio: ["ignore", quiet ? "ignore" : "inherit", "inherit"],
  });
  if (code !== 0) throw new ToolError(`the skeleton's fill command '${command.join(" ")}' failed with exit status ${code}.`);
}
