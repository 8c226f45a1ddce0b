// util-vserver's exclude list for unification (`apps/vunify/exclude`): which paths of a guest keep
// their content to themselves instead of sharing it through the store. One pattern a line,
// matched against the path from the guest's root ("/etc/passwd") as fnmatch(3) without flags
// does: `*` and `?` match a `/` too, so `/etc/*` covers everything below /etc. The first line that
// matches decides: `+PATTERN` unifies, `-PATTERN` or a bare pattern keeps the content with the
// guest, `~PATTERN` too (util-vserver's vcopy did not even copy those; a metadata tree has to
// hold every file of the guest, so here it is the same as `-`). No line matches: unified.
// Lines starting with `#` are comments; trailing blanks are dropped. As util-vserver never entered
// an excluded directory, everything below one is kept too, whatever later lines say.

import { ConfigError } from "../../errors";

export type ExcludeVerdict = "unify" | "keep";

export interface ExcludeRule {
  verdict: ExcludeVerdict;
  /** The pattern as written (without its prefix), for messages. */
  pattern: string;
  re: RegExp;
}

export interface ExcludeList {
  rules: ExcludeRule[];
  /** The file the list came from, or where the built-in one is described. */
  source: string;
}

/** The list util-vserver installed as `/usr/lib/util-vserver/defaults/vunify-exclude`. */
export const DEFAULT_EXCLUDE_TEXT = [
  "/.rpmdb", "/dev", "~/etc/shadow", "~/etc/passwd", "~/etc/group", "+/etc/termcap", "+/etc/gconf",
  "+/etc/gconf/schemas", "/etc/gconf/*", "/etc/*", "/home", "/proc", "/mnt", "+/root/.ssh",
  "~/root/.ssh/id*", "-/root/.ssh/*", "+/root/.gnupg", "~/root/.gnupg/secring*", "-/root/.gnupg/*",
  "-/root/*", "/selinux", "/sys", "~/tmp/*", "/tmp", "~/var/tmp/*", "/var", "/*/ls-R",
].join("\n") + "\n";

export const DEFAULT_EXCLUDE_SOURCE = "the built-in list (util-vserver's defaults/vunify-exclude)";

/**
 * A fnmatch(3) pattern without flags as a regular expression: `*` any string, `?` any character
 * (both crossing `/` and matching a leading dot), `[...]` a class (`!` or `^` negates; a `]`
 * first is literal; no closing `]` makes the `[` literal, as fnmatch does), `\x` the character x.
 */
export function fnmatchRegExp(pattern: string): RegExp {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === "*") out += "[\\s\\S]*";
    else if (ch === "?") out += "[\\s\\S]";
    else if (ch === "\\" && i + 1 < pattern.length) out += escapeChar(pattern[++i]!);
    else if (ch === "[") {
      const cls = bracket(pattern, i);
      if (cls) {
        out += cls.re;
        i = cls.end;
      } else out += "\\[";
    } else out += escapeChar(ch);
  }
  return new RegExp(`^${out}$`);
}

function escapeChar(ch: string): string {
  return /[\\^$.*+?()[\]{}|]/.test(ch) ? `\\${ch}` : ch;
}

/** The class starting at `start` (a `[`): its expression and the index of its `]`, or undefined when it never closes. */
function bracket(p: string, start: number): { re: string; end: number } | undefined {
  let i = start + 1;
  let negate = false;
  if (p[i] === "!" || p[i] === "^") {
    negate = true;
    i++;
  }
  let body = "";
  let first = true;
  for (; i < p.length; i++) {
    const ch = p[i]!;
    if (ch === "]" && !first) return { re: `[${negate ? "^" : ""}${body}]`, end: i };
    first = false;
    if (ch === "\\" && i + 1 < p.length) body += escapeClassChar(p[++i]!);
    else if (ch === "-" && body && p[i + 1] !== undefined && p[i + 1] !== "]") body += "-";
    else body += escapeClassChar(ch);
  }
  return undefined;
}

function escapeClassChar(ch: string): string {
  return /[\\\]^[-]/.test(ch) ? `\\${ch}` : ch;
}

/** Parse an exclude list; a line that cannot match any path is an error naming `file` and the line. */
export function parseExcludeList(text: string, file: string): ExcludeList {
  const rules: ExcludeRule[] = [];
  text.split("\n").forEach((raw, idx) => {
    const line = raw.replace(/[ \t\r]+$/, "");
    if (!line || line.startsWith("#")) return;
    const prefix = line[0]!;
    const pattern = "+-~".includes(prefix) ? line.slice(1) : line;
    if (!pattern.startsWith("/") && !pattern.startsWith("*") && !pattern.startsWith("?") && !pattern.startsWith("[")) {
      throw new ConfigError(`${file}, line ${idx + 1}: '${line}' does not start with '/': patterns are matched against paths from the guest's root, such as /etc/passwd.`, { file });
    }
    rules.push({ verdict: prefix === "+" ? "unify" : "keep", pattern, re: fnmatchRegExp(pattern) });
  });
  return { rules, source: file };
}

export function defaultExcludeList(): ExcludeList {
  return { ...parseExcludeList(DEFAULT_EXCLUDE_TEXT, DEFAULT_EXCLUDE_SOURCE), source: DEFAULT_EXCLUDE_SOURCE };
}

/** What the first matching rule says of `path` (from the guest's root, starting with `/`); unify when none matches. */
export function excludeVerdict(list: ExcludeList, path: string): ExcludeVerdict {
  for (const r of list.rules) if (r.re.test(path)) return r.verdict;
  return "unify";
}
