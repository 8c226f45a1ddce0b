// The console: `enter` a guest from a browser (or any websocket client). The service starts
// `vserverd --console NAME` on a pseudo-terminal of its own, which runs the control plane's
// enter exactly as `vserver NAME enter` on a terminal would (the guest's fresh pty, its checks,
// its journal line), and relays the terminal over the websocket. The guest never gets the
// client's terminal or the service's: it types into a pty we read from.
//
// Protocol: the client's first message is JSON {"cols", "rows", "token"?} (the token when the
// listener needs one: a browser cannot put it in a websocket's headers); then text messages
// {"input": TEXT} and {"resize": [COLS, ROWS]}. The server sends the terminal's output as binary
// messages and, at the end, {"exit": STATUS} before closing.

import type { ServerWebSocket, Subprocess, WebSocketHandler } from "bun";
import type { Caller } from "../../drivers/journal";
import { tokenMatches, type Tokens } from "./auth";

export interface ConsoleData {
  name: string;
  caller: Caller;
  /** Tokens the first message must show one of; undefined: already authenticated. */
  tokens?: Tokens;
  proc?: Subprocess;
}

const size = (v: unknown, def: number) => (Number.isInteger(v) && (v as number) > 0 && (v as number) < 1000 ? (v as number) : def);

export function consoleHandlers(consoleArgv: (name: string, caller: Caller) => string[], count: (delta: number) => void): WebSocketHandler<ConsoleData> {
  const start = (ws: ServerWebSocket<ConsoleData>, cols: number, rows: number) => {
    const proc = Bun.spawn(consoleArgv(ws.data.name, ws.data.caller), {
      env: { ...(process.env as Record<string, string>), TERM: "xterm-256color" },
      terminal: { cols, rows, data: (_t, d) => ws.send(d) },
    });
    ws.data.proc = proc;
    proc.exited.then((code) => {
      proc.terminal?.close();
      try {
        ws.send(JSON.stringify({ exit: code }));
        ws.close(1000, "the shell ended");
      } catch {}
    });
  };
  return {
    open() {
      count(1);
    },
    message(ws, raw) {
      let m: { cols?: unknown; rows?: unknown; token?: unknown; input?: unknown; resize?: unknown };
      try {
        m = JSON.parse(typeof raw === "string" ? raw : Buffer.from(raw).toString());
      } catch {
        return ws.close(1003, "messages are JSON objects");
      }
      if (!ws.data.proc) {
        if (ws.data.tokens) {
          const id = typeof m.token === "string" ? tokenMatches(m.token, ws.data.tokens) : undefined;
          if (!id) return ws.close(4401, "this console needs a token in its first message");
          // The router could not check the scope before it knew the token: the same check, now.
          if (!id.scope.allows(ws.data.name)) return ws.close(4404, `there is no guest '${ws.data.name}' that this caller may see`);
          ws.data.caller = { ...ws.data.caller, who: id.who };
        }
        return start(ws, size(m.cols, 80), size(m.rows, 24));
      }
      const term = ws.data.proc.terminal;
      if (typeof m.input === "string") term?.write(m.input);
      if (Array.isArray(m.resize)) term?.resize(size(m.resize[0], 80), size(m.resize[1], 24));
    },
    close(ws) {
      count(-1);
      // The client went away: the shell goes with it, as when an admin's terminal closes.
      ws.data.proc?.kill("SIGHUP");
    },
  };
}
