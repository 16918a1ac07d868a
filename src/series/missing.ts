/**
 * The patches of a series that did not arrive, computed from the indices that did: the work is bounded by
 * the number of patches present, never by the total a subject announces ("[PATCH 1/100000000]" costs what
 * "[PATCH 1/2]" costs), and the gaps are summarised as ranges, never enumerated.
 */

/** An inclusive range of missing patch indices. */
export interface MissingRange {
  from: number;
  to: number;
}

/** At most this many indices are listed in `Series.missing`; every gap is in missingRanges(). */
export const MAX_LISTED_MISSING = 100;

/** Ranges of 1..total absent from `present` (indices outside 1..total are ignored). */
export function missingRanges(total: number, present: Iterable<number>): MissingRange[] {
  const seen = [...new Set(present)].filter((i) => i >= 1 && i <= total).sort((a, b) => a - b);
  const ranges: MissingRange[] = [];
  let next = 1;
  for (const i of seen) {
    if (i > next) ranges.push({ from: next, to: i - 1 });
    next = i + 1;
  }
  if (next <= total) ranges.push({ from: next, to: total });
  return ranges;
}

export function countMissing(ranges: readonly MissingRange[]): number {
  return ranges.reduce((n, r) => n + r.to - r.from + 1, 0);
}

/** The first `max` missing indices, in order. */
export function listMissing(ranges: readonly MissingRange[], max = MAX_LISTED_MISSING): number[] {
  const out: number[] = [];
  for (const r of ranges) {
    for (let i = r.from; i <= r.to && out.length < max; i++) out.push(i);
    if (out.length >= max) break;
  }
  return out;
}

/**
 * "patch 2/5", "patches 2/5, 4/5", "patches 2..100000000 of 100000000" (at most `maxRanges` ranges, then
 * "and N more"); "" when nothing is missing.
 */
export function describeMissing(ranges: readonly MissingRange[], total: number, maxRanges = 10): string {
  const count = countMissing(ranges);
  if (count === 0) return "";
  if (count === 1) return `patch ${(ranges[0] as MissingRange).from}/${total}`;
  const shown = ranges.slice(0, maxRanges);
  const more = countMissing(ranges.slice(maxRanges));
  const tail = more > 0 ? ` and ${more} more` : "";
  if (more === 0 && shown.every((r) => r.from === r.to)) {
    return `patches ${shown.map((r) => `${r.from}/${total}`).join(", ")}${tail}`;
  }
  const parts = shown.map((r) => (r.from === r.to ? `${r.from}` : `${r.from}..${r.to}`));
  return `patches ${parts.join(", ")}${tail} of ${total}`;
}

/** The gaps of a series (from its patches and total). */
export function seriesMissing(series: {
  total: number;
  patches: readonly { index: number }[];
}): MissingRange[] {
  return missingRanges(
    series.total,
    series.patches.map((p) => p.index),
  );
}
