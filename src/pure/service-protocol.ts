// What the thin client (src/native/client.c) and the host service say to each other. This file is
// the one definition: the build generates the C header from it (src/native/gen-protocol-header.ts),
// so the two sides cannot drift.
//
// A connection carries one command. The client sends one request, with its standard input,
// output and error attached as SCM_RIGHTS descriptors:
//
//   u32 little-endian length of what follows, then NUL-terminated fields:
//   MAGIC, command name, working directory, umask (octal), argc, argv[1..], envc, env entries
//
// The worker that took the connection answers with lines:
//   "pid N"    it runs the command; N is its PID and process group. The client forwards the
//              signals it gets: those its terminal made (^C, a resize) to the group, as the
//              terminal would have; those sent to it with kill(2) to the command's process alone
//   "exit N"   the command ended with status N (the last line)
//   "direct"   run the command yourself (the request was not for this service)
// A connection that closes without "exit" means the worker died; a client that forwarded a
// signal then dies of it too.

/** The socket, relative to the state root (pure/paths.ts puts it at Paths.serviceSocket). */
export const SOCKET_REL = "run/vservers/.service/socket";

export const REQUEST_MAGIC = "vserver-request-1";

/** Environment switch: "off" runs every command directly and never starts the service. */
export const SERVICE_ENV = "VSERVER_SERVICE";

/** The largest request a worker reads (argv and environment together). */
export const MAX_REQUEST_BYTES = 1 << 20;

export const REPLY_PID = "pid";
export const REPLY_EXIT = "exit";
export const REPLY_DIRECT = "direct";

export interface ServiceRequest {
  command: string;
  cwd: string;
  umask: number;
  args: string[];
  env: Record<string, string>;
}

export class BadRequestError extends Error {}

/** Decode a whole request body (after the length word). */
export function decodeRequest(body: Buffer): ServiceRequest {
  const fields = body.toString("utf8").split("\0");
  if (fields.pop() !== "") throw new BadRequestError("the request does not end with NUL");
  let i = 0;
  const next = (what: string): string => {
    if (i >= fields.length) throw new BadRequestError(`the request ends before its ${what}`);
    return fields[i++]!;
  };
  const count = (what: string): number => {
    const s = next(what);
    if (!/^\d{1,7}$/.test(s)) throw new BadRequestError(`'${s}' is not a ${what}`);
    return Number(s);
  };
  if (next("magic") !== REQUEST_MAGIC) throw new BadRequestError("not a request of this version");
  const command = next("command");
  const cwd = next("working directory");
  const um = next("umask");
  if (!/^[0-7]{1,4}$/.test(um)) throw new BadRequestError(`'${um}' is not a umask`);
  const args: string[] = [];
  for (let n = count("argument count"); n > 0; n--) args.push(next("argument"));
  const env: Record<string, string> = {};
  for (let n = count("environment count"); n > 0; n--) {
    const e = next("environment entry");
    const eq = e.indexOf("=");
    if (eq > 0) env[e.slice(0, eq)] = e.slice(eq + 1);
  }
  if (i !== fields.length) throw new BadRequestError("the request has trailing fields");
  return { command, cwd, umask: parseInt(um, 8), args, env };
}

/** The client's side, for tests and for any TypeScript client. */
export function encodeRequest(r: ServiceRequest): Buffer {
  const env = Object.entries(r.env).map(([k, v]) => `${k}=${v}`);
  const fields = [REQUEST_MAGIC, r.command, r.cwd, r.umask.toString(8), String(r.args.length), ...r.args, String(env.length), ...env];
  const body = Buffer.from(fields.map((f) => f + "\0").join(""));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(body.length, 0);
  return Buffer.concat([len, body]);
}
