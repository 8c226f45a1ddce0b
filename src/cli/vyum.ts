// vyum GUEST... -- ARGS: the guests' own yum, in each guest (src/cli/across.ts).

import { acrossMain } from "./across";
import { runMain } from "./main";

if (import.meta.main) runMain("vyum", (argv) => acrossMain("vyum", "yum", argv));
