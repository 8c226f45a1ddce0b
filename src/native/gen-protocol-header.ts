// Prints the C header of the client's protocol from its one definition in TypeScript
// (pure/service-protocol.ts) and the list of commands (cli/commands.ts). Run by the Makefile.

import { MAX_REQUEST_BYTES, REPLY_DIRECT, REPLY_EXIT, REPLY_PID, REQUEST_MAGIC, SERVICE_ENV, SOCKET_REL } from "../pure/service-protocol";
import { COMMANDS } from "../cli/commands";

const str = (s: string) => JSON.stringify(s);
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
