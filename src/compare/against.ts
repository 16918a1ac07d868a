/**
 * Which built-in version a series is compared with when nobody says: the same choice for `review`, the GitHub
 * bot and the mail bot. Workers-safe: the caller passes the built-in versions' manifests (patches/<id>/
 * manifest.json, read on Node), or none.
 */
import { BUILTIN_VERSIONS, MAINLINE } from "../semantics/versions.ts";
import { chainVersions } from "../series/chain.ts";
import type { Series } from "../series/types.ts";

/** What a manifest of a built-in version holds that this choice needs. */
export interface BuiltinManifest {
  id: string;
  cover: { messageId: string } | null;
  patches: { messageId: string; patchId: string }[];
}

const mainlineId = (): string => BUILTIN_VERSIONS.find((v) => v.facts === MAINLINE)?.id ?? "mainline";

/**
 * Its previous version when the built-in manifests say which (the same code posted again, e.g. a RESEND; else
 * the newest built-in version whose mails it points at), else the newest built-in version its changelog names
 * ("Updates from version V15"), else the nearest built-in version older by number, else mainline. A built-in
 * series is compared with older built-ins only.
 */
export function defaultComparison(series: Series, manifests: readonly BuiltinManifest[] = []): string {
  return defaultComparisonWhy(series, manifests).id;
}

/** defaultComparison, with why that version was chosen (for the report). */
export function defaultComparisonWhy(
  series: Series,
  manifests: readonly BuiltinManifest[] = [],
): { id: string; why: string } {
  const own = series.cover?.messageId ?? series.patches[0]?.messageId;
  const ownAt = manifests.findIndex((m) => (m.cover?.messageId ?? m.patches[0]?.messageId) === own);
  const others = ownAt >= 0 ? manifests.slice(0, ownAt) : manifests;
  const code = series.patches.map((p) => p.patchId).join(",");
  const sameCode = others.find((m) => m.patches.map((p) => p.patchId).join(",") === code);
  if (sameCode) return { id: sameCode.id, why: `built-in ${sameCode.id} has the same code (a resend)` };
  const mentioned = new Set(series.mentions);
  const linked = others
    .filter((m) =>
      [m.cover?.messageId, ...m.patches.map((p) => p.messageId)].some((id) => id && mentioned.has(id)),
    )
    .pop();
  if (linked) return { id: linked.id, why: `its mails point at built-in ${linked.id}'s` };
  const named = [...(series.cover?.changelog ?? []), ...series.patches.flatMap((p) => p.changelog ?? [])]
    .filter((n) => n.relation === "since" && n.refersTo !== null)
    .map((n) => BUILTIN_VERSIONS.findIndex((v) => v.id === n.refersTo))
    .filter((i) => i >= 0);
  const newestNamed = named.length > 0 ? BUILTIN_VERSIONS[Math.max(...named)]?.id : undefined;
  if (newestNamed !== undefined)
    return { id: newestNamed, why: `its changelog names the changes since ${newestNamed}` };
  const numbered = BUILTIN_VERSIONS.map((v) => ({ id: v.id, m: /^v(\d+)(-resend)?$/.exec(v.id) }))
    .filter((x) => x.m !== null)
    .map((x) => ({ id: x.id, major: Number(x.m?.[1]), resend: x.m?.[2] !== undefined }));
  const older = numbered.filter(
    (x) =>
      x.major < series.version.major ||
      (x.major === series.version.major && series.version.resend && !x.resend),
  );
  const nearest = older.at(-1)?.id;
  if (nearest !== undefined)
    return {
      id: nearest,
      why: `the nearest built-in version older than ${series.version.label} (nothing in the series names the one it follows)`,
    };
  return { id: mainlineId(), why: "no known version precedes it: compared with mainline" };
}

/** The version a series follows among series known before it, and the chain further back. */
export interface Preceding {
  series: Series;
  /** Why the chain links them (src/series/chain.ts): "change-id", "reference", "same-code", "similarity". */
  linkedBy: string;
  /** The versions before that one, newest first, as far as the chain links them. */
  history: Series[];
}

/**
 * Its predecessor in the chain of the series known with it (inputs given together, a store, a bot's history),
 * or null when the chain links it to none of them.
 */
export function precedingInChain(series: Series, known: readonly Series[]): Preceding | null {
  const own = series.cover?.messageId ?? series.patches[0]?.messageId;
  const others = known.filter((k) => (k.cover?.messageId ?? k.patches[0]?.messageId) !== own);
  if (others.length === 0) return null;
  const all = [...others, series];
  const chain = chainVersions(all);
  const byId = new Map(chain.entries.map((e) => [e.id, e]));
  const me = chain.entries.find((e) => all[e.input] === series);
  if (me?.follows == null || me.linkedBy === null) return null;
  const seriesOf = (id: string) => all[byId.get(id)?.input ?? -1] as Series | undefined;
  const prev = seriesOf(me.follows);
  if (prev === undefined) return null;
  const history: Series[] = [];
  for (let e = byId.get(me.follows)?.follows ?? null; e !== null; e = byId.get(e)?.follows ?? null) {
    const s = seriesOf(e);
    if (s === undefined || history.includes(s)) break;
    history.push(s);
  }
  return { series: prev, linkedBy: me.linkedBy, history };
}
