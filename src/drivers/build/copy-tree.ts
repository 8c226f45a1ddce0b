// `build -m clone` and `build -m template`: a guest root from another guest's root or from a
// root-filesystem archive. Both trees are untrusted: cp -a copies symlinks as symlinks and never
// follows them; GNU tar refuses members with `..` and defers links that could redirect later
// members. Reflinks make a clone on btrfs or XFS nearly free.

import { existsSync, statSync } from "node:fs";
import { isTerminal } from "../terminal";
import { ToolError, UsageError } from "../../errors";
import { run, runInteractive, lastLine } from "../process";
import { writeOut } from "../output";

export async function copyGuestRoot(src: string, dest: string, quiet: boolean): Promise<void> {
  if (!existsSync(src) || !statSync(src).isDirectory()) throw new UsageError(`clone: the source root ${src} does not exist.`);
  const argv = ["cp", "-a", "--reflink=auto", "--one-file-system", `${src}/.`, dest];
  const child = Bun.spawn(argv, { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  // cp has no progress output of its own: on a terminal, show how long it has been copying.
  const show = !quiet && isTerminal(1);
  const started = Date.now();
  const ticker = show ? setInterval(() => writeOut(`\rcopying ${src}: ${Math.round((Date.now() - started) / 1000)} s`), 1000) : undefined;
  const code = await child.exited;
  if (ticker) clearInterval(ticker);
  if (show) writeOut(`\rcopied ${src} in ${Math.round((Date.now() - started) / 1000)} s\n`);
  if (code !== 0) throw new ToolError(`copying ${src} failed: ${lastLine(await new Response(child.stderr).text())}`);
}

export async function extractTemplate(archive: string, dest: string, quiet: boolean): Promise<void> {
  if (!existsSync(archive) || !statSync(archive).isFile()) throw new UsageError(`template: the archive ${archive} does not exist.`);
  const argv = ["tar", "--extract", "--file", archive, "--directory", dest, "--numeric-owner", "--preserve-permissions", "--same-owner", "--no-overwrite-dir"];
  if (!quiet && isTerminal(1)) {
    const code = await runInteractive([...argv, "--checkpoint=2000", "--checkpoint-action=dot"], { stdio: ["ignore", "inherit", "inherit"] });
    writeOut("\n");
    if (code !== 0) throw new ToolError(`unpacking ${archive} failed with exit status ${code}.`);
    return;
  }
  const r = run(argv, { timeout: 7200 });
  if (r.code !== 0) throw new ToolError(`unpacking ${archive} failed: ${lastLine(r.stderr)}`);
}
