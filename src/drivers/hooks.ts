// util-vserver's hook scripts: scripts/<flavour> and scripts/<flavour>.d/*, called with the
// flavour and the guest's name. Executable files are run; non-executable ones (which util-vserver
// sourced into its own bash) are run with /bin/sh, so changes they make to variables do not carry
// over (docs/configuration.md). A guest's own scripts replace the .defaults ones. A guest
// configured by a legacy NAME.conf has NAME.sh as its own script of the four flavours the
// original called it with, run the same way.

import { existsSync, readdirSync, statSync } from "node:fs";
import { appendLog } from "./log-file";
import { HookError } from "../errors";
import { run, lastLine } from "./process";
import { LEGACY_SCRIPT_FLAVOURS } from "../pure/config/legacy-conf";

export const HOOK_FLAVOURS = ["initialize", "prepre-start", "pre-start", "post-start", "pre-stop", "post-stop", "postpost-stop"] as const;
export type HookFlavour = (typeof HOOK_FLAVOURS)[number];

export interface HookContext {
  name: string;
  cfgDir: string;
  defaultsDir: string;
  vdir: string;
  context?: number;
  log: string;
  /** A legacy guest's /etc/vservers/NAME.sh (it may not exist); cfgDir is then the directory holding it. */
  legacyScript?: string;
}

function scriptsIn(base: string, flavour: string): string[] {
  const out: string[] = [];
  const single = `${base}/scripts/${flavour}`;
  if (existsSync(single) && statSync(single).isFile()) out.push(single);
  const dir = `${base}/scripts/${flavour}.d`;
  if (existsSync(dir) && statSync(dir).isDirectory()) {
    for (const f of readdirSync(dir).sort()) {
      if (f.startsWith(".") || f.endsWith("~")) continue;
      const p = `${dir}/${f}`;
      if (statSync(p).isFile()) out.push(p);
    }
  }
  return out;
}

function legacyScriptFor(script: string, flavour: string): string[] {
  if (!(LEGACY_SCRIPT_FLAVOURS as readonly string[]).includes(flavour)) return [];
  return existsSync(script) && statSync(script).isFile() ? [script] : [];
}

export function hookScripts(ctx: HookContext, flavour: HookFlavour): string[] {
  const own = ctx.legacyScript === undefined ? scriptsIn(ctx.cfgDir, flavour) : legacyScriptFor(ctx.legacyScript, flavour);
  return own.length ? own : scriptsIn(ctx.defaultsDir, flavour);
}

/** Run every script of a flavour in order; the first failure stops the sequence and throws. */
export function runHooks(ctx: HookContext, flavour: HookFlavour): void {
  const scripts = hookScripts(ctx, flavour);
  if (!scripts.length) return;
  const cwd = flavour === "initialize" || flavour === "prepre-start" ? ctx.cfgDir : ctx.vdir;
  const env: Record<string, string> = {
    PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    VSERVER_NAME: ctx.name,
    VSERVER_DIR: ctx.vdir,
    VSERVER_CFGDIR: ctx.cfgDir,
    VSERVER_HOOK: flavour,
  };
  if (ctx.context !== undefined) env.VSERVER_CONTEXT = String(ctx.context);
  for (const script of scripts) {
    const executable = (statSync(script).mode & 0o111) !== 0;
    const argv = executable ? [script, flavour, ctx.name] : ["/bin/sh", script, flavour, ctx.name];
    const r = run(argv, { cwd, env, timeout: 300 });
    const out = (r.stdout + r.stderr).trim();
    appendLog(ctx.log, `[hook ${flavour}] ${script} exit ${r.code}${out ? "\n" + out : ""}\n`);
    if (r.code !== 0) {
      throw new HookError(`the ${flavour} hook ${script} failed (exit status ${r.code})${lastLine(r.stderr) || lastLine(r.stdout) ? `: ${lastLine(r.stderr) || lastLine(r.stdout)}` : "."}`, { guest: ctx.name, file: script });
    }
  }
}
