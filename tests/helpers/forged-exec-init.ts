// A stand-in for the guest init's exec service, as guest root with CAP_SYS_PTRACE could run one
// on the init's socket: it takes one request, answers `reply` with the descriptors `attach` names
// (comma-separated paths, opened read-write; none when empty), and prints how many descriptors
// the request carried and then everything the host wrote afterwards, until the host hung up.
// Run as a process of its own: the host's side waits on the socket in the test's event loop.
//   bun forged-exec-init.ts SOCKET REPLY ATTACH

import { closeSync, openSync, readSync, rmSync } from "node:fs";
import { acceptConnection, listenUnix, pollReadable, receiveWithFds, sendWithFds } from "../../src/drivers/unix-socket";

const [path, reply, attach] = process.argv.slice(2) as [string, string, string];
rmSync(path, { force: true });
const listener = listenUnix(path, 1);
process.stdout.write("listening\n");
if (pollReadable([listener], 10_000).length === 0) process.exit(1);
const conn = acceptConnection(listener);
const req = receiveWithFds(conn, 65536);
for (const fd of req.fds) closeSync(fd);
const fds = attach ? attach.split(",").map((p) => openSync(p, "r+")) : [];
sendWithFds(conn, Buffer.from(reply.replace(/\\n/g, "\n")), fds);
for (const fd of fds) closeSync(fd);
let afterwards = "";
const b = Buffer.alloc(256);
for (let n; (n = readSync(conn, b)) > 0; ) afterwards += b.toString("utf8", 0, n);
process.stdout.write(`${req.fds.length}\n${afterwards}`);
