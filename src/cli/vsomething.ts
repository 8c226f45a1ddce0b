// vsomething CMD GUEST... -- ARGS: any command in many guests (src/cli/across.ts).

import { acrossMain } from "./across";
import { runMain } from "./main";

if (import.meta.main) runMain("vsomething", (argv) => acrossMain("vsomething", undefined, argv));
