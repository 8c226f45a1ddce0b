// vreboot GUEST...: restart guests (src/cli/power.ts).

import { powerMain } from "./power";
import { runMain } from "./main";

if (import.meta.main) runMain("vreboot", (argv) => powerMain("vreboot", argv));
