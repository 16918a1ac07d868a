/**
 * From the outcome of applying a series (whoever applied it: git on Node, the strict applier without a
 * tree) to the report: each reported file's text and provenance, with the fallback rules of the hand model
 * (a failed patch's files, and every file that includes a header a failed patch changes).
 */
import type { Series } from "../series/types.ts";
import { includesOf, reportedFiles, roleOf } from "./paths.ts";
import type { MissingFilePolicy, PatchOutcome, Provenance, TreeBase, TreeFile, TreeReport } from "./types.ts";

export interface ApplyRun {
  base: TreeBase;
  policy: MissingFilePolicy;
  patches: PatchOutcome[];
  /** Text at the base of every file looked at that the base has. */
  baseTexts: ReadonlyMap<string, string>;
  /** Text after the run of every file looked at that exists then. */
  finalTexts: ReadonlyMap<string, string>;
}

/** The failed header a file depends on (itself included), with the path of includes that reaches it. */
function failedHeaderOf(
  path: string,
  failedHeaders: ReadonlyMap<string, number[]>,
  texts: (p: string) => string | undefined,
): { header: string; via: string[] } | null {
  const seen = new Set<string>([path]);
  const queue: Array<{ path: string; via: string[] }> = [{ path, via: [] }];
  while (queue.length > 0) {
    const { path: at, via } = queue.shift() as { path: string; via: string[] };
    const text = texts(at);
    if (text === undefined) continue;
    for (const inc of includesOf(at, text)) {
      if (seen.has(inc)) continue;
      seen.add(inc);
      if (failedHeaders.has(inc)) return { header: inc, via };
      queue.push({ path: inc, via: [...via, inc] });
    }
  }
  return null;
}

function patchList(ns: readonly number[]): string {
  return ns.length === 1 ? `patch ${ns[0]}` : `patches ${ns.join(", ")}`;
}

export function assembleReport(series: Series, run: ApplyRun): TreeReport {
  const { patches, baseTexts, finalTexts } = run;
  const failed = patches.filter((p) => p.status === "failed");
  const applied = patches.filter((p) => p.status === "applied");
  const failedHeaders = new Map<string, number[]>();
  for (const p of failed)
    for (const f of p.files)
      if (f.endsWith(".h")) failedHeaders.set(f, [...(failedHeaders.get(f) ?? []), p.index]);
  const text = (p: string) => finalTexts.get(p) ?? baseTexts.get(p);

  const provenanceOf = (path: string): Provenance => {
    if (series.missing.length > 0)
      return {
        kind: "fallback",
        cause: "series-incomplete",
        reason: `the series lacks ${patchList(series.missing)}: what it changes is unknown`,
        patches: [...series.missing],
      };
    const failing = failed.filter((p) => p.files.includes(path));
    if (failing.length > 0)
      return {
        kind: "fallback",
        cause: "patch-failed",
        reason: `${failing.map((p) => `${p.index}/${series.total} "${p.title}"`).join(" and ")} did not apply`,
        patches: failing.map((p) => p.index),
      };
    const touching = applied.filter((p) => p.files.includes(path)).map((p) => p.index);
    const inBase = baseTexts.has(path);
    const inFinal = finalTexts.has(path);
    if (!inBase && !inFinal)
      return run.base.kind === "none"
        ? { kind: "fallback", cause: "no-tree", reason: "no kernel tree was given", patches: [] }
        : {
            kind: "fallback",
            cause: "not-in-tree",
            reason: `the tree (${run.base.tree}) has no ${path}`,
            patches: [],
          };
    if (inBase && !inFinal) return { kind: "deleted", patch: touching[touching.length - 1] ?? 0 };
    const dep = failedHeaderOf(path, failedHeaders, text);
    if (dep !== null) {
      const ns = failedHeaders.get(dep.header) ?? [];
      const via = dep.via.length > 0 ? ` (through ${dep.via.join(", ")})` : "";
      return {
        kind: "fallback",
        cause: "header-failed",
        reason: `it includes ${dep.header}${via}, which ${patchList(ns)} ${ns.length === 1 ? "changes" : "change"} and did not apply`,
        patches: ns,
      };
    }
    if (!inBase) return { kind: "created", patch: touching[0] ?? 0, patches: touching };
    if (touching.length > 0) return { kind: "patched", patches: touching };
    return { kind: "base" };
  };

  const files: TreeFile[] = reportedFiles(series).map((path) => {
    const provenance = provenanceOf(path);
    const usable = provenance.kind !== "fallback" && provenance.kind !== "deleted";
    return { path, role: roleOf(path), text: usable ? (finalTexts.get(path) ?? null) : null, provenance };
  });
  return {
    series: series.id,
    title: series.title,
    seriesBase: series.base,
    base: run.base,
    policy: run.policy,
    missingPatches: [...series.missing],
    patches,
    files,
    summary: {
      applied: applied.length,
      failed: failed.length,
      nothingToApply: patches.filter((p) => p.status === "nothing-to-apply").length,
      total: series.total,
    },
  };
}
