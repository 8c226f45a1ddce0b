// vsomething CMD GUEST... -- ARGS: any command in many guests (src/cli/across.ts).

import { acrossMain } from "./across";
import { runMain } from "./main";

export function main(argv: string[]): Promise<number> {
  return acrossMain("vsomething", undefined, argv);
}

if (import.meta.main) runMain("vsomething", main);
