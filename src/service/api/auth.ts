// The API's optional TCP listener: off unless the state root's etc/vservers/.api/listen names an
// address. It speaks TLS only (a token in clear text would be anybody's), and each request must
// show a token from .api/tokens (`Authorization: Bearer TOKEN`), unless .api/client-ca.pem
// exists: then the TLS handshake itself requires a client certificate signed by that CA and
// refuses every other client before HTTP starts. A token line may list the guests its holder may
// see and act on (pure/api/scope.ts); without a list, and with a client certificate (Bun's server
// does not show a handler the peer's certificate, so its name cannot choose a list), the caller
// acts as root does on the Unix socket. The journal names the token (or says "client
// certificate") as the caller.

import { existsSync, readFileSync, statSync } from "node:fs";
import { createHash, timingSafeEqual } from "node:crypto";
import { ConfigError } from "../../errors";
import type { Paths } from "../../pure/paths";
import { Scope } from "../../pure/api/scope";

export interface TcpConfig {
  hostname: string;
  port: number;
  cert: string;
  key: string;
  /** Client certificates signed by this CA are required at the handshake. */
  clientCa?: string;
  tokens: Tokens;
}

/** Token name -> the SHA-256 of the token and the guests it may reach. */
export type Tokens = Map<string, { hash: Buffer; scope: Scope }>;

/** Who a request is: the name the journal gives it, and the guests it may reach. */
export interface Identity {
  who: string;
  scope: Scope;
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
  const tokens: Tokens = new Map();
  const tokensFile = `${dir}/tokens`;
  if (existsSync(tokensFile)) {
    if (statSync(tokensFile).mode & 0o077) throw new ConfigError(`${tokensFile}: is readable by other users; chmod 600 it.`, { file: tokensFile });
    read(tokensFile).split("\n").forEach((line, i) => {
      const l = line.trim();
      if (!l || l.startsWith("#")) return;
      const t = /^([A-Za-z0-9_.@-]+)\s+(\S{16,})(?:\s+(\S+))?$/.exec(l);
      const where = `${tokensFile}, line ${i + 1}`;
      if (!t) throw new ConfigError(`${where}: not 'NAME TOKEN' or 'NAME TOKEN GUEST,GUEST,...' with a token of at least 16 characters.`, { file: tokensFile });
      const scope = t[3] === undefined ? Scope.ALL : Scope.of(t[3].split(","));
      if ("bad" in scope) throw new ConfigError(`${where}: '${scope.bad}' is not a guest name or pattern (letters, digits, '.', '_', '-', and '*' or '?'), in a list separated by commas.`, { file: tokensFile });
      tokens.set(t[1]!, { hash: sha(t[2]!), scope });
    });
  }
  const caFile = `${dir}/client-ca.pem`;
  const clientCa = existsSync(caFile) ? read(caFile) : undefined;
  if (!clientCa && tokens.size === 0) throw new ConfigError(`${dir}: the TCP API needs tokens (a 'tokens' file) or client certificates (client-ca.pem); without either nobody could use it.`, { file: dir });
  return { hostname: m[1] ?? m[2]!, port: Number(m[3]), cert: read(`${dir}/cert.pem`), key, clientCa, tokens };
}

/** Who shows the token a request carries, or undefined. */
export function tokenIdentity(req: Request, tokens: Tokens): Identity | undefined {
  const m = /^Bearer\s+(\S+)$/.exec(req.headers.get("authorization") ?? "");
  return m ? tokenMatches(m[1]!, tokens) : undefined;
}

/** Who shows a token, or undefined. Constant time in the token's bytes. */
export function tokenMatches(token: string, tokens: Tokens): Identity | undefined {
  const shown = sha(token);
  let found: Identity | undefined;
  for (const [name, t] of tokens) if (timingSafeEqual(t.hash, shown)) found = { who: `token ${name}`, scope: t.scope };
  return found;
}
