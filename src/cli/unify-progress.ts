// Progress of a long hashify, on a terminal only: one line redrawn in place on stderr.

import { isTerminal } from "../drivers/terminal";
import { writeErr } from "../drivers/output";
import type { Progress } from "../drivers/unify/generation";
import { formatProgress } from "../pure/format/unify";

export function hashifyProgress(name: string, quiet: boolean): { progress?: Progress; done(): void } {
  if (quiet || !isTerminal(2)) return { done() {} };
  let shown = false;
  return {
    progress: (s) => {
      shown = true;
      writeErr(formatProgress(name, s));
    },
    done: () => {
      if (shown) writeErr("\n");
    },
  };
}
