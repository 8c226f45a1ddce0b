// Each guest's own range of user and group ids on the host: 65536 ids from context × 65536, so
// that a guest's uid N is the host's uid context·65536 + N. Contexts are unique among running
// guests, so no two guests share an id; the region begins at 131072 (context 2), above every
// ordinary host account. Host users' subordinate ranges (/etc/subuid, /etc/subgid, which
// rootless containers use), and the ranges user namespaces on the host already map (another
// state root's guests), are checked against it before a guest starts.

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

/** Host ids from `start`, `count` of them. */
export interface IdSpan {
  start: number;
  count: number;
}

export interface SubordinateRange extends IdSpan {
  owner: string;
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

/** The first of `ranges` that shares an id with the guest's range. */
export function overlappingRange<S extends IdSpan>(r: IdRange, ranges: S[]): S | undefined {
  return ranges.find((s) => s.start < r.base + r.count && r.base < s.start + s.count);
}

/** The contexts whose ranges share an id with any of these ranges. */
export function contextsOverlapping(ranges: IdSpan[]): Set<number> {
  const out = new Set<number>();
  for (const r of ranges) {
    if (r.count <= 0) continue;
    for (let c = Math.floor(r.start / IDS_PER_GUEST); c <= Math.floor((r.start + r.count - 1) / IDS_PER_GUEST) && c <= 0xffff; c++) out.add(c);
  }
  return out;
}

/** 4294967295 ids from 0 to 0: the host's own user namespace, which maps nothing of a guest's. */
const IDENTITY_COUNT = 4294967295;

/**
 * The host ids a user namespace maps, from its /proc/PID/uid_map or gid_map (`inside outside
 * count` per line); the host's own identity map is left out.
 */
export function parseIdMap(text: string): IdSpan[] {
  const out: IdSpan[] = [];
  for (const line of text.split("\n")) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s*$/.exec(line);
    if (!m) continue;
    const [inside, start, count] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (inside === 0 && start === 0 && count === IDENTITY_COUNT) continue;
    if (count > 0) out.push({ start, count });
  }
  return out;
}
