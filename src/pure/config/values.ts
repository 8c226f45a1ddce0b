// The value types of util-vserver's file-per-setting layout (scalar, list, boolean, hash), with
// errors that name the file. `file` in every signature is the path shown to the user.

import { ConfigError } from "../../errors";

/** First line of a scalar file, trimmed; undefined when the file is absent or empty. */
export function scalar(content: string | undefined): string | undefined {
  if (content === undefined) return undefined;
  const line = content.split("\n")[0]?.trim();
  return line ? line : undefined;
}

/** One item per line; `#` comments and empty lines ignored. */
export function list(content: string | undefined): string[] {
  if (content === undefined) return [];
  return content
    .split("\n")
    .map((l) => l.replace(/#.*$/, "").trim())
    .filter((l) => l.length > 0);
}

export function integer(
  raw: string,
  file: string,
  opts: { min?: number; max?: number; what?: string } = {},
): number {
  if (!/^[+-]?\d+$/.test(raw)) {
    throw new ConfigError(`${file}: '${raw}' is not a whole number${opts.what ? ` (${opts.what})` : ""}.`, { file });
  }
  const n = Number(raw);
  opts = { max: Number.MAX_SAFE_INTEGER, ...opts };
  if (opts.min !== undefined && n < opts.min) {
    throw new ConfigError(`${file}: ${n} is below the smallest allowed value ${opts.min}.`, { file });
  }
  if (opts.max !== undefined && n > opts.max) {
    throw new ConfigError(`${file}: ${n} is above the largest allowed value ${opts.max}.`, { file });
  }
  return n;
}

/**
 * A limit value: a number, or `inf`/`infinity`/`unlimited` (returned as undefined = no limit).
 * Per-process limits (min 0) also take ulimit's `-1`, and 0 is a real limit for them. A
 * whole-guest limit has min 1: 0 would allow nothing at all, and the runtime would read it as
 * no limit, so it is refused rather than given either meaning.
 */
export function limit(raw: string, file: string, o: { min?: number; max?: number; what?: string } = {}): number | undefined {
  const min = o.min ?? 0;
  if (/^(inf|infinity|unlimited)$/i.test(raw)) return undefined;
  if (raw === "-1" && min === 0) return undefined;
  if (min > 0 && /^[+-]?0+$/.test(raw)) {
    throw new ConfigError(`${file}: 0 is not a limit here (it would allow nothing at all); give a number from ${min}${o.what ? ` (${o.what})` : ""}, or 'inf' for no limit.`, { file });
  }
  return integer(raw, file, { min, max: o.max ?? Number.MAX_SAFE_INTEGER });
}

/** `KEY=VALUE` lines. */
export function hash(content: string | undefined, file: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const line of list(content)) {
    const eq = line.indexOf("=");
    if (eq <= 0) throw new ConfigError(`${file}: line '${line}' is not KEY=VALUE.`, { file });
    out.push([line.slice(0, eq), line.slice(eq + 1)]);
  }
  return out;
}

/** Command files (apps/init/cmd.*): one argv element per line, verbatim (no comment stripping). */
export function argv(content: string | undefined): string[] | undefined {
  if (content === undefined) return undefined;
  const parts = content.split("\n").filter((l, i, a) => !(l === "" && i === a.length - 1));
  const trimmed = parts.map((p) => p.replace(/\r$/, "")).filter((p) => p.length > 0);
  return trimmed.length ? trimmed : undefined;
}
