// Bridges for bridge mode. A bridge that does not exist is created (and later removed by the
// last guest that uses it); an existing one belongs to the administrator and is only used.

import { ToolError } from "../../errors";
import { ip, ipTry } from "./ip";
import { isBridge, linkExists } from "./links";

/** Returns true when the bridge was created here. */
export function ensureBridge(br: string, file: string): boolean {
  if (linkExists(br)) {
    if (!isBridge(br)) throw new ToolError(`${file}: the host device '${br}' exists but is not a bridge.`);
    return false;
  }
  ip(["link", "add", br, "type", "bridge"], `creating the bridge ${br}`);
  ip(["link", "set", br, "up"], `bringing up the bridge ${br}`);
  return true;
}

export function deleteBridge(br: string): void {
  if (linkExists(br) && isBridge(br)) ipTry(["link", "del", br]);
}
