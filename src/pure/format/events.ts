// One line per journal event for `vserver-events`: time, what, guest, outcome, who asked, and
// the details that say the most about each kind.

export interface EventLine {
  time: string;
  op: string;
  guest?: string;
  context?: number;
  ok: boolean;
  error?: string;
  caller?: { uid: number; pid?: number; via?: string };
  [k: string]: unknown;
}

const SHOWN = new Set(["time", "op", "guest", "context", "ok", "error", "caller", "pid", "kind"]);

function value(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

export function formatEventLine(e: EventLine): string {
  const who = e.caller ? (e.caller.via ? `${e.caller.via}${e.caller.pid ? `/${e.caller.pid}` : ""}` : `uid ${e.caller.uid} pid ${e.caller.pid ?? "?"}`) : "";
  const extra = Object.entries(e)
    .filter(([k, v]) => !SHOWN.has(k) && v !== undefined)
    .map(([k, v]) => `${k}=${value(v)}`)
    .join(" ");
  const parts = [
    e.time,
    e.op.padEnd(9),
    (e.guest ?? "-").padEnd(12),
    e.context !== undefined ? `ctx ${e.context}` : "",
    e.ok ? "ok" : `FAILED: ${e.error ?? "?"}`,
    who ? `(${who})` : "",
    extra,
  ];
  return parts.filter(Boolean).join(" ");
}
