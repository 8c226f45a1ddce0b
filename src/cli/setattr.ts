// setattr [-R] --[~|!]ATTR... [--] FILE...   and   showattr [-R] [-d] [--] FILE...
// util-vserver's inode attributes: what they became is in pure/inode-attrs.ts.

import { lstatSync, readdirSync } from "node:fs";
import { UsageError, VsError } from "../errors";
import { FS_APPEND_FL, FS_IMMUTABLE_FL, InodeFlagsError, changeFlags, getFlags } from "../drivers/inode-flags";
import { formatAttrs, parseAttrArgs } from "../pure/inode-attrs";
import { writeOut } from "../drivers/output";
import { runMain } from "./main";

const SET_HELP = `Usage: setattr [-R] --[~|!]ATTR... [--] FILE...

Set (--ATTR) or clear (--~ATTR, --!ATTR) an inode attribute of each FILE (-R: and of everything
below a directory, never through a link). ATTR is immutable (--immu) or append. util-vserver's
others are refused with the reason: iunlink and cow became the copy-on-write of unified guests,
barrier the mode of the directory of guest roots, admin/watch/hide/write per-guest /proc views.
A unified guest's files are in its overlay: set their attributes from inside the guest.
`;

const SHOW_HELP = `Usage: showattr [-R] [-d] [--] FILE...

One line per FILE (-R: and everything below a directory, never through a link): util-vserver's
nine columns (admin, watch, hide, write, barrier, iunlink, immutable, cow, xid; '-' where the
attribute is gone, upper case when set), then A/a for append-only. -d is accepted.
`;

function flagsOf(argv: string[], prog: string): { recursive: boolean; attrs: string[]; files: string[] } {
  let recursive = false;
  const attrs: string[] = [];
  const files: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      i++;
      break;
    }
    if (a === "-R") recursive = true;
    else if (a === "-d" && prog === "showattr") continue;
    else if (a.startsWith("--")) attrs.push(a);
    else if (a.startsWith("-")) throw new UsageError(`unknown option '${a}'.`);
    else files.push(a);
  }
  files.push(...argv.slice(i));
  return { recursive, attrs, files };
}

/** Each file, and with `recursive` everything below it that is a directory or a regular file. */
function* walk(files: string[], recursive: boolean): Generator<string> {
  for (const f of files) {
    yield f;
    if (!recursive || !lstatSync(f).isDirectory()) continue;
    const todo = [f];
    while (todo.length) {
      const d = todo.pop()!;
      for (const e of readdirSync(d)) {
        const p = `${d}/${e}`;
        const st = lstatSync(p);
        if (st.isDirectory()) todo.push(p);
        if (st.isDirectory() || st.isFile()) yield p;
      }
    }
  }
}

function explain(e: unknown, what: string): never {
  if (e instanceof InodeFlagsError) {
    const why = e.errno === 95 || e.errno === 25 ? "its file system has no such attributes" : e.errno === 1 ? "not permitted (root with CAP_LINUX_IMMUTABLE only)" : `errno ${e.errno}`;
    throw new VsError(`${e.path}: cannot ${what}: ${why}.`, { file: e.path });
  }
  const err = e as NodeJS.ErrnoException;
  if (err.code === "ELOOP") throw new VsError(`${err.path}: is a symbolic link; attributes are never set or read through one.`, { file: err.path });
  throw e;
}

export function setattrMain(argv: string[]): number {
  if (argv.includes("--help") || argv.includes("-h")) {
    writeOut(SET_HELP);
    return 0;
  }
  const { recursive, attrs, files } = flagsOf(argv, "setattr");
  if (!attrs.length) throw new UsageError("no attribute given (--immutable, --~immutable, --append, --~append).");
  if (!files.length) throw new UsageError("no file given.");
  let change;
  try {
    change = parseAttrArgs(attrs);
  } catch (e) {
    throw new UsageError(`${(e as Error).message}.`);
  }
  const bit = (a: string) => (a === "immutable" ? FS_IMMUTABLE_FL : FS_APPEND_FL);
  const set = change.set.reduce((m, a) => m | bit(a), 0);
  const clear = change.clear.reduce((m, a) => m | bit(a), 0);
  for (const f of walk(files, recursive)) {
    try {
      changeFlags(f, set, clear);
    } catch (e) {
      explain(e, "change its attributes");
    }
  }
  return 0;
}

export function showattrMain(argv: string[]): number {
  if (argv.includes("--help") || argv.includes("-h")) {
    writeOut(SHOW_HELP);
    return 0;
  }
  const { recursive, attrs, files } = flagsOf(argv, "showattr");
  if (attrs.length) throw new UsageError(`unknown option '${attrs[0]}'.`);
  if (!files.length) throw new UsageError("no file given.");
  for (const f of walk(files, recursive)) {
    let flags = 0;
    try {
      flags = getFlags(f);
    } catch (e) {
      explain(e, "read its attributes");
    }
    writeOut(`${formatAttrs(!!(flags & FS_IMMUTABLE_FL), !!(flags & FS_APPEND_FL))} ${f}\n`);
  }
  return 0;
}

export const main = setattrMain;

if (import.meta.main) runMain("setattr", setattrMain);
