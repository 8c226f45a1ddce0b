// Named fault points, for the fault-injection tests only. `VSERVER_FAULT=POINT:ACTION[,...]`
// (read at the first point the command reaches, and again when the variable changed: a service
// worker reaches its own points with the service's environment, then takes its caller's) makes
// the command, on reaching POINT, either kill itself
// with SIGKILL (`kill`: a crash or `kill -9` at exactly that step), fail there as a full disk
// would (`enospc`: the write that follows the point fails with ENOSPC), or stop itself with
// SIGSTOP (`stop`: a test changes the world under it, then sends SIGCONT). Without the variable every
// point is a no-op. docs/architecture.md lists the points and what the next command does.

let armed: Map<string, string> | undefined;
let armedFrom: string | undefined;

function armedPoints(): Map<string, string> {
  const spec = process.env.VSERVER_FAULT ?? "";
  if (armed && armedFrom === spec) return armed;
  armed = new Map();
  armedFrom = spec;
  for (const item of spec.split(",")) {
    const i = item.lastIndexOf(":");
    if (i > 0) armed.set(item.slice(0, i).trim(), item.slice(i + 1).trim());
  }
  return armed;
}

/** The write at `file` that follows this point; named in the ENOSPC error as a real one would be. */
export function faultPoint(point: string, file = point): void {
  const action = armedPoints().get(point);
  if (!action) return;
  if (action === "kill") process.kill(process.pid, "SIGKILL");
  if (action === "stop") process.kill(process.pid, "SIGSTOP");
  if (action === "enospc") {
    armedPoints().delete(point);
    const e = new Error(`ENOSPC: no space left on device, write '${file}'`) as NodeJS.ErrnoException;
    e.code = "ENOSPC";
    e.path = file;
    throw e;
  }
}
