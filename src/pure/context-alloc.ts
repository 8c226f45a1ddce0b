// Context numbers (xids): static ones from 2 to 49151, allocated by `build` from 40000 upward
// (util-vserver's context.start); dynamic ones from 49152 for guests that have none.

export const STATIC_MIN = 2;
export const STATIC_MAX = 49151;
export const BUILD_START = 40000;
export const DYNAMIC_MIN = 49152;
export const DYNAMIC_MAX = 65535;

/** The smallest free number at or above `start` (and `next`, .defaults/context.next, if given). */
export function nextFreeContext(used: Iterable<number>, opts: { start?: number; max?: number; next?: number } = {}): number | undefined {
  const taken = new Set(used);
  const max = opts.max ?? STATIC_MAX;
  let n = Math.max(opts.start ?? BUILD_START, opts.next ?? 0);
  for (; n <= max; n++) if (!taken.has(n)) return n;
  return undefined;
}
