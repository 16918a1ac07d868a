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
function similarity(a: Series, b: Series): number {
  const titles = dice(titleWords(a.title), titleWords(b.title));
  const pa = new Set(a.patches.map((p) => p.title.toLowerCase()));
  const shared = b.patches.filter((p) => pa.has(p.title.toLowerCase())).length;
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

/** Why `later` follows `earlier`, or null when nothing relates them. Strongest reason first. */
function relation(earlier: Series, later: Series, codeOf: CodeIdOf): ChainEntry["linkedBy"] {
  if (earlier.changeId !== null && earlier.changeId === later.changeId) return "change-id";
  const ids = messageIds(earlier);
  if (later.mentions.some((id) => ids.has(id))) return "reference";
  if (earlier.patches.length > 0 && codeOf(earlier) === codeOf(later)) return "same-code";
  const sameAuthor = earlier.author.email !== "" && earlier.author.email === later.author.email;
  if (sameAuthor && similarity(earlier, later) >= TITLE_SIMILARITY && overlap(files(earlier), files(later))) {
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
 * `codeOf` gives each series' code identity; a caller that chains the same series objects many times (the
 * archive index, pair by pair) passes one codeIdMemo for all its calls. Series must not change meanwhile.
 */
export function chainVersions(series: readonly Series[], codeOf: CodeIdOf = codeIdMemo()): SeriesChain {
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
      const why = relation(sorted[j] as Series, s, codeOf);
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
