// The API's optional TCP listener: off unless the state root's etc/vservers/.api/listen names an
// address. It speaks TLS only (a token in clear text would be anybody's), and each request must
// show a token from .api/tokens (`Authorization: Bearer TOKEN`), unless .api/client-ca.pem
// exists: then the TLS handshake itself requires a client certificate signed by that CA and
// refuses every other client before HTTP starts. A remote caller acts as root does on the Unix
// socket; the journal names the token (or says "client certificate") as the caller.

import { existsSync, readFileSync, statSync } from "node:fs";
import { createHash, timingSafeEqual } from "node:crypto";
import { ConfigError } from "../../errors";
import type { Paths } from "../../pure/paths";

export interface TcpConfig {
  hostname: string;
  port: number;
  cert: string;
  key: string;
  /** Client certificates signed by this CA are required at the handshake. */
  clientCa?: string;
  /** Token name -> SHA-256 of the token. */
  tokens: Map<string, Buffer>;
}

export function apiConfigDir(paths: Paths): string {
  return `${paths.confDir}/.api`;
}

function read(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw new ConfigError(`${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); the TCP API needs it.`, { file });
  }
}

const sha = (s: string) => createHash("sha256").update(s).digest();

/** The TCP listener's settings, or undefined when it is off; a ConfigError names the bad file. */
export function loadTcpConfig(paths: Paths): TcpConfig | undefined {
  const dir = apiConfigDir(paths);
  const listenFile = `${dir}/listen`;
  if (!existsSync(listenFile)) return undefined;
  const raw = read(listenFile).trim();
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+|localhost)):(\d{1,5})$/.exec(raw);
  if (!m || Number(m[3]) < 1 || Number(m[3]) > 65535) throw new ConfigError(`${listenFile}: '${raw}' is not ADDRESS:PORT (127.0.0.1:8443, [::1]:8443, 0.0.0.0:8443).`, { file: listenFile });
  const keyFile = `${dir}/key.pem`;
  const key = read(keyFile);
  // The key gives the service's identity to whoever reads it: root's only, as ssh keeps its keys.
  if (statSync(keyFile).mode & 0o077) throw new ConfigError(`${keyFile}: is readable by other users; chmod 600 it.`, { file: keyFile });
  const tokens = new Map<string, Buffer>();
  const tokensFile = `${dir}/tokens`;
  if (existsSync(tokensFile)) {
    if (statSync(tokensFile).mode & 0o077) throw new ConfigError(`${tokensFile}: is readable by other users; chmod 600 it.`, { file: tokensFile });
    read(tokensFile).split("\n").forEach((line, i) => {
      const l = line.trim();
      if (!l || l.startsWith("#")) return;
      const t = /^([A-Za-z0-9_.@-]+)\s+(\S{16,})$/.exec(l);
      if (!t) throw new ConfigError(`${tokensFile}, line ${i + 1}: not 'NAME TOKEN' with a token of at least 16 characters.`, { file: tokensFile });
      tokens.set(t[1]!, sha(t[2]!));
    });
  }
  const caFile = `${dir}/client-ca.pem`;
  const clientCa = existsSync(caFile) ? read(caFile) : undefined;
  if (!clientCa && tokens.size === 0) throw new ConfigError(`${dir}: the TCP API needs tokens (a 'tokens' file) or client certificates (client-ca.pem); without either nobody could use it.`, { file: dir });
  return { hostname: m[1] ?? m[2]!, port: Number(m[3]), cert: read(`${dir}/cert.pem`), key, clientCa, tokens };
}

/** The name of the token a request shows, or undefined. */
export function tokenName(req: Request, tokens: Map<string, Buffer>): string | undefined {
  const m = /^Bearer\s+(\S+)$/.exec(req.headers.get("authorization") ?? "");
  return m ? tokenMatches(m[1]!, tokens) : undefined;
}

/** The name of a token, or undefined. Constant time in the token's bytes. */
export function tokenMatches(token: string, tokens: Map<string, Buffer>): string | undefined {
  const shown = sha(token);
  let found: string | undefined;
  for (const [name, h] of tokens) if (timingSafeEqual(h, shown)) found = name;
  return found;
}
