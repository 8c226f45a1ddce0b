// vhalt GUEST...: stop guests (src/cli/power.ts).

import { powerMain } from "./power";
import { runMain } from "./main";

if (import.meta.main) runMain("vhalt", (argv) => powerMain("vhalt", argv));
