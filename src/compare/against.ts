/**
 * Which built-in version a series is compared with when nobody says: the same choice for `review`, the GitHub
 * bot and the mail bot. Workers-safe: the caller passes the built-in versions' manifests (patches/<id>/
 * manifest.json, read on Node), or none.
 */
import { BUILTIN_VERSIONS, MAINLINE } from "../semantics/versions.ts";
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
  const own = series.cover?.messageId ?? series.patches[0]?.messageId;
  const ownAt = manifests.findIndex((m) => (m.cover?.messageId ?? m.patches[0]?.messageId) === own);
  const others = ownAt >= 0 ? manifests.slice(0, ownAt) : manifests;
  const code = series.patches.map((p) => p.patchId).join(",");
  const sameCode = others.find((m) => m.patches.map((p) => p.patchId).join(",") === code);
  if (sameCode) return sameCode.id;
  const mentioned = new Set(series.mentions);
  const linked = others
    .filter((m) =>
      [m.cover?.messageId, ...m.patches.map((p) => p.messageId)].some((id) => id && mentioned.has(id)),
    )
    .pop();
  if (linked) return linked.id;
  const named = [...(series.cover?.changelog ?? []), ...series.patches.flatMap((p) => p.changelog ?? [])]
    .filter((n) => n.relation === "since" && n.refersTo !== null)
    .map((n) => BUILTIN_VERSIONS.findIndex((v) => v.id === n.refersTo))
    .filter((i) => i >= 0);
  if (named.length > 0) return BUILTIN_VERSIONS[Math.max(...named)]?.id ?? mainlineId();
  const numbered = BUILTIN_VERSIONS.map((v) => ({ id: v.id, m: /^v(\d+)(-resend)?$/.exec(v.id) }))
    .filter((x) => x.m !== null)
    .map((x) => ({ id: x.id, major: Number(x.m?.[1]), resend: x.m?.[2] !== undefined }));
  const older = numbered.filter(
    (x) =>
      x.major < series.version.major ||
      (x.major === series.version.major && series.version.resend && !x.resend),
  );
  return older.at(-1)?.id ?? mainlineId();
}
