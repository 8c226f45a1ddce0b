// apps/init/killseq: `signal [wait signal]*`, one token per line; default `15 5 9` (TERM, wait 5 s, KILL).

import { ConfigError } from "../../errors";
import { list } from "./values";

export interface KillStep {
  signal: string;
  /** Seconds to wait for the guest to empty after sending; the last step waits a fixed grace. */
  waitSeconds: number;
}

const SIGNALS: Record<string, string> = {
  "1": "SIGHUP", "2": "SIGINT", "3": "SIGQUIT", "9": "SIGKILL", "10": "SIGUSR1", "12": "SIGUSR2",
  "15": "SIGTERM", "18": "SIGCONT", "19": "SIGSTOP", "30": "SIGPWR",
};

export function signalName(raw: string, file: string): string {
  const up = raw.trim().toUpperCase();
  if (SIGNALS[up]) return SIGNALS[up]!;
  const named = up.startsWith("SIG") ? up : `SIG${up}`;
  if (Object.values(SIGNALS).includes(named)) return named;
  throw new ConfigError(`${file}: '${raw}' is not a signal (a number such as 15 or a name such as TERM).`, { file });
}

export function parseKillSeq(content: string | undefined, file: string): KillStep[] {
  const tokens = content === undefined ? ["15", "5", "9"] : list(content).flatMap((l) => l.split(/\s+/));
  if (tokens.length === 0 || tokens.length % 2 === 0) {
    throw new ConfigError(`${file}: expected 'signal [wait signal]...', for example 15 5 9.`, { file });
  }
  const steps: KillStep[] = [];
  for (let i = 0; i < tokens.length; i += 2) {
    const signal = signalName(tokens[i]!, file);
    const wait = i + 1 < tokens.length ? Number(tokens[i + 1]) : 2;
    if (!Number.isFinite(wait) || wait < 0) throw new ConfigError(`${file}: '${tokens[i + 1]}' is not a number of seconds.`, { file });
    steps.push({ signal, waitSeconds: wait });
  }
  if (steps[steps.length - 1]!.signal !== "SIGKILL") steps.push({ signal: "SIGKILL", waitSeconds: 2 });
  return steps;
}
