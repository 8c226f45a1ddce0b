// vps's splice (reference §1.5, util-vserver src/vps.c): ps's own output with a CONTEXT column
// (xid right-aligned in 5, then the guest name) right after the PID column. The same splice
// serves vtop, whose batch output is ps-like below its summary lines. Pure: the attribution of
// a PID comes in as a function.

export interface Attribution {
  context: number;
  /** "MAIN" for the host, the guest's name, "" for a context without one. */
  name: string;
}

/** util-vserver's names for the two special contexts and for a process it could not place. */
export const HOST_NAME = "MAIN";
export const SPECTATOR_NAME = "ALL_PROC";
export const UNKNOWN = "ERR";

const MIN_NAME_WIDTH = 14;

interface HeaderInfo {
  line: number;
  /** Index just past the last character of the PID heading (ps right-aligns numbers). */
  pidEnd: number;
}

function findHeader(lines: string[]): HeaderInfo | undefined {
  for (let i = 0; i < lines.length; i++) {
    const m = /(^|\s)PID(\s|$)/.exec(lines[i]!);
    if (m) return { line: i, pidEnd: m.index + m[1]!.length + 3 };
  }
  return undefined;
}

/** The PID a row shows in the column that ends at pidEnd. */
export function rowPid(row: string, pidEnd: number): number | undefined {
  const m = /(\d+)$/.exec(row.slice(0, pidEnd));
  return m ? Number(m[1]) : undefined;
}

function contextCell(a: Attribution | undefined, width: number): string {
  if (!a) return `${"".padStart(5)} ${UNKNOWN.padEnd(width)}`;
  return `${String(a.context).padStart(5)} ${a.name.padEnd(width)}`;
}

/**
 * Insert the CONTEXT column into ps (or top -b) output. Lines before the header pass through;
 * output without a PID column is returned unchanged. The name column is as wide as the longest
 * name, so long guest names are never cut.
 */
export function spliceContext(psOutput: string, attribute: (pid: number) => Attribution | undefined): string {
  const lines = psOutput.split("\n");
  const trailingNewline = psOutput.endsWith("\n");
  if (trailingNewline) lines.pop();
  const h = findHeader(lines);
  if (!h) return psOutput;
  const rows: Array<{ i: number; a: Attribution | undefined }> = [];
  let width = MIN_NAME_WIDTH;
  for (let i = h.line + 1; i < lines.length; i++) {
    if (!lines[i]!.trim()) continue;
    const pid = rowPid(lines[i]!, h.pidEnd);
    const a = pid === undefined ? undefined : attribute(pid);
    rows.push({ i, a });
    // One blank always separates the name from the next column, which may be left-aligned.
    if (a && a.name.length + 1 > width) width = a.name.length + 1;
  }
  const insertAt = (line: string) => Math.min(line.length, h.pidEnd + 1);
  const out = [...lines];
  const head = lines[h.line]!;
  const at = insertAt(head);
  out[h.line] = head.slice(0, at) + (at === head.length && at === h.pidEnd ? " " : "") + "CONTEXT".padEnd(6 + width) + head.slice(at);
  for (const { i, a } of rows) {
    const line = lines[i]!;
    const p = insertAt(line);
    out[i] = line.slice(0, p) + (p === line.length && p === h.pidEnd ? " " : "") + contextCell(a, width) + line.slice(p);
  }
  // A PID column at the end of the line leaves trailing blanks: trim them, as ps does.
  const text = out.map((l) => l.replace(/\s+$/, "")).join("\n");
  return trailingNewline ? text + "\n" : text;
}

export interface PsRow {
  pid: number;
  context: number | null;
  name: string | null;
  fields: Record<string, string>;
}

/**
 * ps output as rows of named fields, for --json. Columns are split on blanks and the last one
 * (COMMAND, CMD, ARGS) takes the rest of the line, as ps prints it.
 */
export function psRows(psOutput: string, attribute: (pid: number) => Attribution | undefined): PsRow[] {
  const lines = psOutput.split("\n").filter((l) => l.trim());
  const h = findHeader(lines);
  if (!h) return [];
  const names = lines[h.line]!.trim().split(/\s+/);
  const rows: PsRow[] = [];
  for (const line of lines.slice(h.line + 1)) {
    const pid = rowPid(line, h.pidEnd);
    if (pid === undefined) continue;
    const parts = line.trim().split(/\s+/);
    const fields: Record<string, string> = {};
    names.forEach((n, k) => {
      fields[n] = k === names.length - 1 ? parts.slice(k).join(" ") : parts[k] ?? "";
    });
    const a = attribute(pid);
    rows.push({ pid, context: a ? a.context : null, name: a ? a.name : null, fields });
  }
  return rows;
}
