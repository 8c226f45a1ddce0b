// Prints a C header of a protocol from its one definition in TypeScript, so that the C side and
// the TypeScript side cannot drift. Run by the Makefile:
//   gen-protocol-header.ts service      the thin client's (pure/service-protocol.ts, cli/commands.ts)
//   gen-protocol-header.ts guest-exec   the guest init's exec service (pure/guest-exec-protocol.ts)

import { MAX_REQUEST_BYTES, REPLY_DIRECT, REPLY_EXIT, REPLY_PID, REQUEST_MAGIC, SERVICE_ENV, SOCKET_REL } from "../pure/service-protocol";
import { EXEC_MAGIC, EXEC_REPLY_EXIT, EXEC_REPLY_PID, EXEC_REPLY_REFUSED, EXEC_SIGNAL, EXEC_TERMINAL, INIT_EXEC_FD, MAX_EXEC_REQUEST_BYTES, MAX_TERMINAL_SIZE } from "../pure/guest-exec-protocol";
import { COMMANDS } from "../cli/commands";

const str = (s: string) => JSON.stringify(s);
const which = process.argv[2];
if (which === "service") {
  const served = Object.keys(COMMANDS);
  process.stdout.write(`/* Generated from src/pure/service-protocol.ts and src/cli/commands.ts by the build: do not edit. */
#define SOCKET_REL ${str(SOCKET_REL)}
#define REQUEST_MAGIC ${str(REQUEST_MAGIC)}
#define SERVICE_ENV ${str(SERVICE_ENV)}
#define MAX_REQUEST_BYTES ${MAX_REQUEST_BYTES}
#define REPLY_PID ${str(REPLY_PID + " ")}
#define REPLY_EXIT ${str(REPLY_EXIT + " ")}
#define REPLY_DIRECT ${str(REPLY_DIRECT)}
#define SERVED_COMMANDS { ${served.map(str).join(", ")}, 0 }
`);
} else if (which === "guest-exec") {
  process.stdout.write(`/* Generated from src/pure/guest-exec-protocol.ts by the build: do not edit. */
#define INIT_EXEC_FD ${INIT_EXEC_FD}
#define EXEC_MAGIC ${str(EXEC_MAGIC)}
#define MAX_EXEC_REQUEST_BYTES ${MAX_EXEC_REQUEST_BYTES}
#define EXEC_REPLY_PID ${str(EXEC_REPLY_PID)}
#define EXEC_REPLY_EXIT ${str(EXEC_REPLY_EXIT)}
#define EXEC_REPLY_REFUSED ${str(EXEC_REPLY_REFUSED)}
#define EXEC_SIGNAL ${str(EXEC_SIGNAL)}
#define EXEC_TERMINAL ${str(EXEC_TERMINAL)}
#define MAX_TERMINAL_SIZE ${MAX_TERMINAL_SIZE}
`);
} else {
  throw new Error("usage: gen-protocol-header.ts service|guest-exec");
}
