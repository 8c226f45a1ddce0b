// vyum GUEST... -- ARGS: the guests' own yum, in each guest (src/cli/across.ts).

import { acrossMain } from "./across";
import { runMain } from "./main";

export function main(argv: string[]): Promise<number> {
  return acrossMain("vyum", "yum", argv);
}

if (import.meta.main) runMain("vyum", main);
