// vreboot GUEST...: restart guests (src/cli/power.ts).

import { powerMain } from "./power";
import { runMain } from "./main";

export function main(argv: string[]): Promise<number> {
  return powerMain("vreboot", argv);
}

if (import.meta.main) runMain("vreboot", main);
