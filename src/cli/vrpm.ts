// vrpm GUEST... -- ARGS: the guests' own rpm, in each guest (src/cli/across.ts).

import { acrossMain } from "./across";
import { runMain } from "./main";

export function main(argv: string[]): Promise<number> {
  return acrossMain("vrpm", "rpm", argv);
}

if (import.meta.main) runMain("vrpm", main);
