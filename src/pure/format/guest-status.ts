// Text for `vserver NAME status` and `vserver --list`.

export interface StatusView {
  name: string;
  running: boolean;
  context: number | undefined;
  initStyle: string;
  mark?: string;
  vdir: string;
  processes?: number;
  uptimeSeconds?: number;
  log: string;
  /** Stopped, but processes a killed command started still run (control/guest-state.ts). */
  leftovers?: boolean;
}

export function formatDuration(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (d) return `${d}d ${h}h ${m}m`;
  if (h) return `${h}h ${m}m ${s}s`;
  if (m) return `${m}m ${s}s`;
  return `${s}s`;
}

export function formatStatus(s: StatusView): string {
  if (!s.running) {
    const left = s.leftovers ? " (processes left by a killed command remain; 'start' or 'stop' removes them)" : "";
    return `Vserver '${s.name}' is stopped${left}\nLog: ${s.log}\n`;
  }
  return [
    `Vserver '${s.name}' is running at context '${s.context}'`,
    `Number of processes: ${s.processes ?? 0}`,
    `Uptime: ${formatDuration(s.uptimeSeconds ?? 0)}`,
    `Log: ${s.log}`,
    "",
  ].join("\n");
}

export function formatGuestList(rows: Array<StatusView | { name: string; error: string }>): string {
  const lines = [["NAME", "CTX", "STATE", "INIT", "ROOT"]];
  for (const r of rows) {
    if ("error" in r) lines.push([r.name, "-", "broken", "-", r.error]);
    else lines.push([r.name, r.context === undefined ? "-" : String(r.context), r.running ? "running" : "stopped", r.initStyle, r.vdir]);
  }
  const widths = lines[0]!.map((_, c) => Math.max(...lines.map((l) => l[c]!.length)));
  return lines.map((l) => l.map((f, c) => (c === l.length - 1 ? f : f.padEnd(widths[c]!))).join("  ")).join("\n") + "\n";
}

/** `start-vservers --status`: every guest at once, with what a boot would do with it. */
export function formatBootStatus(rows: Array<StatusView | { name: string; error: string }>): string {
  const lines = [["NAME", "CTX", "STATE", "MARK", "PROCS", "UPTIME"]];
  for (const r of rows) {
    if ("error" in r) lines.push([r.name, "-", "broken", "-", "-", r.error]);
    else lines.push([r.name, r.context === undefined ? "-" : String(r.context), r.running ? "running" : r.leftovers ? "stopped*" : "stopped", r.mark ?? "-", r.running ? String(r.processes ?? 0) : "-", r.running ? formatDuration(r.uptimeSeconds ?? 0) : "-"]);
  }
  const widths = lines[0]!.map((_, c) => Math.max(...lines.map((l) => l[c]!.length)));
  const out = lines.map((l) => l.map((f, c) => (c === l.length - 1 ? f : f.padEnd(widths[c]!))).join("  ")).join("\n") + "\n";
  return rows.some((r) => !("error" in r) && r.leftovers) ? out + "* processes left by a killed command remain; 'vserver NAME start' or 'stop' removes them\n" : out;
}
