import { seriesCodeId } from "./patchid.ts";
import { dice, titleWords } from "./subject.ts";
import type { ChainEntry, Series, SeriesChain } from "./types.ts";

/** Title similarity (Dice over words) from which two series by the same author count as related. */
export const TITLE_SIMILARITY = 0.6;

function byAge(a: Series, b: Series): number {
  const v = a.version;
  const w = b.version;
  return (
    v.major - w.major ||
    (v.minor ?? 0) - (w.minor ?? 0) ||
    Number(v.resend) - Number(w.resend) ||
    (a.date ?? "").localeCompare(b.date ?? "")
  );
}

function messageIds(s: Series): Set<string> {
  return new Set([...(s.cover ? [s.cover.messageId] : []), ...s.patches.map((p) => p.messageId)]);
}

function files(s: Series): Set<string> {
  return new Set(s.patches.flatMap((p) => p.files.map((f) => f.path)));
}

/** Best title similarity: cover titles, or the share of patch titles that reappear. */
function similarity(a: Series, b: Series, memo: ChainMemo): number {
  const titles = dice(memo.titleWords(a), memo.titleWords(b));
  const pa = memo.patchTitles(a);
  const shared = memo.patchTitleList(b).filter((t) => pa.has(t)).length;
  const patchShare = (2 * shared) / Math.max(1, pa.size + b.patches.length);
  return Math.max(titles, patchShare);
}

function overlap(a: Set<string>, b: Set<string>): boolean {
  for (const x of a) if (b.has(x)) return true;
  return false;
}

/** A series' code identity (seriesCodeId of its patches). */
export type CodeIdOf = (s: Series) => string;

/** seriesCodeId of each series, computed once per series object for one call (a hash of every patch-id). */
export function codeIdMemo(): CodeIdOf {
  const memo = new Map<Series, string>();
  return (s) => {
    let id = memo.get(s);
    if (id === undefined) {
      id = seriesCodeId(s.patches);
      memo.set(s, id);
    }
    return id;
  };
}

/**
 * What relation() derives from a series (code id, message ids, title words, patch titles, files), computed
 * once per series object for as long as one memo is used: the archive index chains the same series objects
 * pair by pair thousands of times. Series must not change meanwhile.
 */
export interface ChainMemo {
  codeOf: CodeIdOf;
  messageIds(s: Series): Set<string>;
  titleWords(s: Series): Set<string>;
  /** Patch titles in lower case, in patch order (with repeats) and as a set. */
  patchTitleList(s: Series): string[];
  patchTitles(s: Series): Set<string>;
  files(s: Series): Set<string>;
}

function memoized<T>(of: (s: Series) => T): (s: Series) => T {
  const memo = new Map<Series, T>();
  return (s) => {
    let v = memo.get(s);
    if (v === undefined) {
      v = of(s);
      memo.set(s, v);
    }
    return v;
  };
}

export function chainMemo(codeOf: CodeIdOf = codeIdMemo()): ChainMemo {
  const patchTitleList = memoized((s) => s.patches.map((p) => p.title.toLowerCase()));
  return {
    codeOf,
    messageIds: memoized(messageIds),
    titleWords: memoized((s) => titleWords(s.title)),
    patchTitleList,
    patchTitles: memoized((s) => new Set(patchTitleList(s))),
    files: memoized(files),
  };
}

/** Why `later` follows `earlier`, or null when nothing relates them. Strongest reason first. */
function relation(earlier: Series, later: Series, memo: ChainMemo): ChainEntry["linkedBy"] {
  if (earlier.changeId !== null && earlier.changeId === later.changeId) return "change-id";
  const ids = memo.messageIds(earlier);
  if (later.mentions.some((id) => ids.has(id))) return "reference";
  if (earlier.patches.length > 0 && memo.codeOf(earlier) === memo.codeOf(later)) return "same-code";
  const sameAuthor = earlier.author.email !== "" && earlier.author.email === later.author.email;
  if (
    sameAuthor &&
    similarity(earlier, later, memo) >= TITLE_SIMILARITY &&
    overlap(memo.files(earlier), memo.files(later))
  ) {
    return "similarity";
  }
  return null;
}

/** Ids unique within the chain: "v16", "v16-resend", then "-rfc", then "-2", "-3" if still needed. */
function uniqueIds(series: Series[]): string[] {
  const taken = new Set<string>();
  return series.map((s) => {
    let id = s.id;
    if (taken.has(id) && s.version.rfc) id = `${id}-rfc`;
    for (let n = 2; taken.has(id); n++) id = `${s.id}${s.version.rfc ? "-rfc" : ""}-${n}`;
    taken.add(id);
    return id;
  });
}

/**
 * Orders series oldest first and links each to the latest earlier one it relates to (b4 change-id,
 * thread references and lore links, identical code, or same author with similar titles and shared files).
 * `memo` holds what is derived from each series (its code identity, titles, files); a caller that chains the
 * same series objects many times (the archive index, pair by pair) passes one chainMemo for all its calls.
 * Series must not change meanwhile.
 */
export function chainVersions(series: readonly Series[], memo: ChainMemo = chainMemo()): SeriesChain {
  const { codeOf } = memo;
  const order = series.map((_, i) => i).sort((a, b) => byAge(series[a] as Series, series[b] as Series));
  const sorted = order.map((i) => series[i] as Series);
  const ids = uniqueIds(sorted);
  const codes = sorted.map((s) => (s.patches.length > 0 && s.missing.length === 0 ? codeOf(s) : null));
  const entries: ChainEntry[] = [];
  const warnings: string[] = [];
  sorted.forEach((s, i) => {
    let follows: string | null = null;
    let linkedBy: ChainEntry["linkedBy"] = null;
    for (let j = i - 1; j >= 0 && follows === null; j--) {
      const why = relation(sorted[j] as Series, s, memo);
      if (why !== null) {
        follows = ids[j] as string;
        linkedBy = why;
      }
    }
    const same = codes[i] === null ? -1 : codes.findIndex((c, j) => j < i && c === codes[i]);
    const id = ids[i] as string;
    if (i > 0 && follows === null) warnings.push(`${id} ("${s.title}") follows none of the other inputs`);
    entries.push({
      id,
      version: s.version.label,
      resend: s.version.resend,
      messageId: s.cover?.messageId ?? s.patches[0]?.messageId ?? "",
      title: s.title,
      origin: s.origin,
      input: order[i] as number,
      sameCodeAs: same < 0 ? null : (ids[same] as string),
      follows,
      linkedBy,
    });
  });
  return { entries, warnings };
}
