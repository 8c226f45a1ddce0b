// Each guest's own range of user and group ids on the host: 65536 ids from context × 65536, so
// that a guest's uid N is the host's uid context·65536 + N. Contexts are unique among running
// guests, so no two guests share an id; the region begins at 131072 (context 2), above every
// ordinary host account. Host users' subordinate ranges (/etc/subuid, /etc/subgid, which
// rootless containers use) are checked against it before a guest starts.

export const IDS_PER_GUEST = 65536;

export interface IdRange {
  /** The host id that the guest's id 0 is. */
  base: number;
  /** How many ids, from the guest's 0 upward. */
  count: number;
}

/** uid_t is 32 bits and (uid_t)-1 means "no id", so the last context's range is one id short. */
const LAST_VALID_ID = 0xfffffffe;

export function guestIdRange(context: number): IdRange {
  const base = context * IDS_PER_GUEST;
  return { base, count: Math.min(IDS_PER_GUEST, LAST_VALID_ID - base + 1) };
}

export interface SubordinateRange {
  owner: string;
  start: number;
  count: number;
  line: number;
}

/** Lines of /etc/subuid or /etc/subgid: `owner:start:count`; anything else is skipped. */
export function parseSubordinateIds(text: string): SubordinateRange[] {
  const out: SubordinateRange[] = [];
  text.split("\n").forEach((raw, i) => {
    const m = /^([^:#\s][^:]*):(\d+):(\d+)\s*$/.exec(raw.trim());
    if (m) out.push({ owner: m[1]!, start: Number(m[2]), count: Number(m[3]), line: i + 1 });
  });
  return out;
}

/** The first subordinate range that shares an id with the guest's range. */
export function overlappingRange(r: IdRange, ranges: SubordinateRange[]): SubordinateRange | undefined {
  return ranges.find((s) => s.start < r.base + r.count && r.base < s.start + s.count);
}

/** The contexts whose ranges share an id with any of these subordinate ranges. */
export function contextsOverlapping(ranges: SubordinateRange[]): Set<number> {
  const out = new Set<number>();
  for (const r of ranges) {
    if (r.count <= 0) continue;
    for (let c = Math.floor(r.start / IDS_PER_GUEST); c <= Math.floor((r.start + r.count - 1) / IDS_PER_GUEST) && c <= 0xffff; c++) out.add(c);
  }
  return out;
}
