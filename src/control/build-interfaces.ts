// `build --interface [name=][dev:]ip[/prefix]` writes interfaces/NN/. Networking proper is
// its own module; until it lands, build refuses the option rather than writing config that
// start would ignore.

import { UsageError } from "../errors";
import type { ConfigEntry } from "../pure/config/tree";

export function interfaceConfigEntries(specs: string[]): Array<[string, ConfigEntry]> {
  if (specs.length) throw new UsageError("--interface: guest addresses are not supported yet.");
  return [];
}
