// vrpm GUEST... -- ARGS: the guests' own rpm, in each guest (src/cli/across.ts).

import { acrossMain } from "./across";
import { runMain } from "./main";

if (import.meta.main) runMain("vrpm", (argv) => acrossMain("vrpm", "rpm", argv));
