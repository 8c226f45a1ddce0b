// vapt-get GUEST... -- ARGS: the guests' own apt-get, in each guest (src/cli/across.ts).

import { acrossMain } from "./across";
import { runMain } from "./main";

if (import.meta.main) runMain("vapt-get", (argv) => acrossMain("vapt-get", "apt-get", argv));
