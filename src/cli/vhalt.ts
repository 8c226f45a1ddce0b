// vhalt GUEST...: stop guests (src/cli/power.ts).

import { powerMain } from "./power";
import { runMain } from "./main";

export function main(argv: string[]): Promise<number> {
  return powerMain("vhalt", argv);
}

if (import.meta.main) runMain("vhalt", main);
