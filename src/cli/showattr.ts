// showattr [-R] [-d] [--] FILE...: util-vserver's inode attributes of files (cli/setattr.ts).

import { showattrMain } from "./setattr";
import { runMain } from "./main";

export const main = showattrMain;

if (import.meta.main) runMain("showattr", showattrMain);
