// vserver-stat's table (reference §1.5, util-vserver src/vserver-stat.c): fixed columns, memory
// scaled in steps of 1024, times in the four compact forms. Pure: the numbers come in raw.

export interface ContextStat {
  context: number;
  /** Guest name; empty for a context without one (chcontext). */
  name: string;
  processes: number;
  /** Bytes. */
  vsz: number;
  rss: number;
  /** Seconds (fractions kept: the short time form shows hundredths). */
  userSeconds: number;
  sysSeconds: number;
  uptimeSeconds: number;
}

export const STAT_HEADER = "CTX   PROC    VSZ    RSS  userTIME   sysTIME    UPTIME NAME";

const UNITS = [" ", "K", "M", "G", "T"];

/** Bytes in at most 7 characters: "512 ", "95M", "1.8G"; "+" past the last unit. */
export function formatSize(bytes: number): string {
  let v = Math.max(0, bytes);
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  if (v >= 1024) return `${Math.floor(v / 1024)}+`;
  // One decimal digit only when it carries information (util-vserver prints "95M", "1.8G").
  const tenths = Math.floor(v * 10) / 10;
  const text = i > 0 && tenths % 1 !== 0 && tenths < 100 ? tenths.toFixed(1) : String(Math.floor(v));
  return `${text}${UNITS[i]}`;
}

const pad2 = (n: number) => String(n).padStart(2, "0");

/** MmSSsXX (< 1 h), HhMMmSS (< 1 day), DdHHhMM (< 1000 days), YyDDdHH. */
export function formatTime(seconds: number): string {
  const t = Math.max(0, seconds);
  const whole = Math.floor(t);
  if (t < 3600) {
    const hundredths = Math.min(99, Math.floor((t - whole) * 100 + 1e-6));
    return `${Math.floor(whole / 60)}m${pad2(whole % 60)}s${pad2(hundredths)}`;
  }
  if (t < 86400) return `${Math.floor(whole / 3600)}h${pad2(Math.floor(whole / 60) % 60)}m${pad2(whole % 60)}`;
  const days = Math.floor(whole / 86400);
  if (days < 1000) return `${days}d${pad2(Math.floor(whole / 3600) % 24)}h${pad2(Math.floor(whole / 60) % 60)}`;
  return `${Math.floor(days / 365)}y${pad2(days % 365)}d${pad2(Math.floor(whole / 3600) % 24)}`;
}

export function contextLabel(context: number, name: string): string {
  if (context === 0) return "root server";
  if (context === 1) return "monitoring server";
  return name.slice(0, 20);
}

export function formatStatLine(s: ContextStat): string {
  return (
    String(s.context).padEnd(5) +
    String(s.processes).padStart(5) +
    formatSize(s.vsz).padStart(7) +
    formatSize(s.rss).padStart(7) +
    formatTime(s.userSeconds).padStart(10) +
    formatTime(s.sysSeconds).padStart(10) +
    formatTime(s.uptimeSeconds).padStart(10) +
    " " +
    contextLabel(s.context, s.name)
  );
}

export function formatStatTable(rows: ContextStat[]): string {
  const sorted = [...rows].sort((a, b) => a.context - b.context);
  return [STAT_HEADER, ...sorted.map(formatStatLine)].join("\n") + "\n";
}
