/**
 * A series without a kernel tree: the files it creates whole exist (their text is in the patches), later
 * patches of the series apply to them exactly, and every change to a file of the tree is left out. Runs
 * anywhere (no git, no file system), so Workers have the created drivers too.
 */
import type { Series } from "../series/types.ts";
import { applyHunks } from "./apply.ts";
import { checkPath, pathsOf } from "./paths.ts";
import { assembleReport } from "./report.ts";
import type { AppliedFile, LeftOut, PatchOutcome, TreeReport } from "./types.ts";

export function applyWithoutTree(
  series: Series,
  reason = "none was given (--kernel-tree, RPROC_REVIEW_KERNEL_TREE, or the current directory when it is one)",
): TreeReport {
  const texts = new Map<string, string>();
  const patches: PatchOutcome[] = [];
  for (const patch of series.patches) {
    const where = `patch ${patch.index}/${series.total}`;
    const next = new Map(texts);
    const leftOut: LeftOut[] = [];
    const files: string[] = [];
    const applied: AppliedFile[] = [];
    let failure: string | null = null;
    for (const change of patch.files) {
      for (const p of pathsOf(change)) checkPath(p, where);
      if (change.status === "binary") {
        leftOut.push({ path: change.path, why: "binary diff" });
        continue;
      }
      const old = change.oldPath;
      if (change.status !== "added" && (old === null || !next.has(old))) {
        leftOut.push({ path: change.path, why: "no kernel tree" });
        continue;
      }
      files.push(...pathsOf(change).filter((p) => !files.includes(p)));
      if (failure !== null) continue;
      if (change.status === "added" && next.has(change.path)) {
        failure = `${change.path}: already exists`;
        continue;
      }
      const before = old === null ? "" : (next.get(old) as string);
      const result = applyHunks(before, change.hunks, change.path);
      if (!result.ok) {
        failure = result.reason;
        continue;
      }
      if (old !== null) next.delete(old);
      if (change.newPath !== null) next.set(change.newPath, result.text);
      applied.push({ path: change.path, method: "direct", notes: [] });
    }
    const status = failure !== null ? "failed" : files.length === 0 ? "nothing-to-apply" : "applied";
    if (status === "applied") {
      texts.clear();
      for (const [k, v] of next) texts.set(k, v);
    }
    patches.push({
      index: patch.index,
      title: patch.title,
      status,
      reason: failure,
      files,
      applied: status === "applied" ? applied : [],
      leftOut,
    });
  }
  return assembleReport(series, {
    base: { kind: "none", reason },
    policy: "leave-out",
    patches,
    baseTexts: new Map(),
    finalTexts: texts,
  });
}
