// vapt-get GUEST... -- ARGS: the guests' own apt-get, in each guest (src/cli/across.ts).

import { acrossMain } from "./across";
import { runMain } from "./main";

export function main(argv: string[]): Promise<number> {
  return acrossMain("vapt-get", "apt-get", argv);
}

if (import.meta.main) runMain("vapt-get", main);
