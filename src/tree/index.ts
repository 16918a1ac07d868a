/**
 * The modelled C files with a series applied (Workers-safe part). Node applies a series to a kernel tree
 * with git (src/node/kernel-tree.ts); without a tree, applyWithoutTree gives the files the series creates.
 * The interpreter takes `runnableFiles(report)` and falls back to the hand model for every other file.
 */
import { includesOf } from "./paths.ts";
import type { Provenance, TreeBase, TreeFile, TreeReport } from "./types.ts";

export { applyHunks } from "./apply.ts";
export {
  checkPath,
  createdCFiles,
  includesOf,
  MODELLED_FILES,
  MODELLED_SOURCES,
  reportedFiles,
} from "./paths.ts";
export { renderDiff, renderFileDiff } from "./render.ts";
export { type ApplyRun, assembleReport } from "./report.ts";
export { applyWithoutTree } from "./standalone.ts";
export type * from "./types.ts";

/** The files to run from C: text present and provenance base, patched or created. */
export function runnableFiles(report: TreeReport): Array<TreeFile & { text: string }> {
  return report.files.filter(
    (f): f is TreeFile & { text: string } =>
      f.text !== null && f.provenance.kind !== "fallback" && f.provenance.kind !== "deleted",
  );
}

/**
 * The runnable files in the order the interpreter loads a tree's files: headers first (so their macros and
 * types precede the .c files), then sources in report order. The interpreter does not follow #include, so
 * the headers come in the order the preprocessor would meet them: the sources' #include lines in report
 * order, each header after the runnable headers it includes itself (a header relies on what the .c file
 * included before it, as remoteproc_internal.h does on <linux/remoteproc.h>); headers no source includes
 * follow in report order.
 */
export function loadOrder(report: TreeReport): Array<{ path: string; text: string }> {
  const files = runnableFiles(report);
  const headers = new Map(files.filter((f) => f.role === "header").map((f) => [f.path, f]));
  const ordered: Array<TreeFile & { text: string }> = [];
  const seen = new Set<string>();
  const visit = (path: string, text: string) => {
    for (const inc of includesOf(path, text)) {
      const h = headers.get(inc);
      if (h === undefined || seen.has(inc)) continue;
      seen.add(inc);
      visit(h.path, h.text);
      ordered.push(h);
    }
  };
  const sources = files.filter((f) => f.role === "source");
  for (const f of sources) visit(f.path, f.text);
  for (const h of headers.values())
    if (!seen.has(h.path)) {
      seen.add(h.path);
      visit(h.path, h.text);
      ordered.push(h);
    }
  return [...ordered, ...sources].map((f) => ({ path: f.path, text: f.text }));
}

/** What runs a file: "C" (its text) or "model" (the hand model). */
export function ranFrom(report: TreeReport, path: string): "C" | "model" {
  return runnableFiles(report).some((f) => f.path === path) ? "C" : "model";
}

export function describeBase(base: TreeBase): string {
  switch (base.kind) {
    case "commit":
      return `base-commit ${base.commit.slice(0, 12)} of ${base.tree} (blobs read with git, the work tree untouched)`;
    case "worktree":
      return `the files of ${base.tree} as they are${base.git && base.head !== null ? ` (git HEAD ${base.head.slice(0, 12)})` : ""}: ${base.reason}`;
    case "none":
      return `no kernel tree: ${base.reason}; only the files the series creates exist`;
  }
}

function list(ns: readonly number[]): string {
  return ns.join(", ");
}

export function describeProvenance(p: Provenance): string {
  switch (p.kind) {
    case "base":
      return "base";
    case "patched":
      return `patched by ${p.patches.length === 1 ? "patch" : "patches"} ${list(p.patches)}`;
    case "created":
      return p.patches.length > 1
        ? `created by patch ${p.patch}, patched by ${list(p.patches.filter((n) => n !== p.patch))}`
        : `created by patch ${p.patch}`;
    case "deleted":
      return `deleted by patch ${p.patch}`;
    case "fallback":
      return `fallback (${p.cause}): ${p.reason}`;
  }
}

/** The report as the CLI prints it. */
export function treeText(report: TreeReport): string {
  const out: string[] = [];
  const s = report.summary;
  out.push(`${report.series} "${report.title}"`);
  out.push(`  base:    ${describeBase(report.base)}`);
  if (report.seriesBase !== null) out.push(`  series base-commit: ${report.seriesBase}`);
  out.push(
    `  patches: ${s.applied} of ${s.total} applied${s.failed > 0 ? `, ${s.failed} failed` : ""}${
      s.nothingToApply > 0 ? `, ${s.nothingToApply} with nothing to apply` : ""
    }${report.missingPatches.length > 0 ? `, missing ${list(report.missingPatches)}` : ""}`,
  );
  for (const p of report.patches) {
    out.push(`  ${String(p.index).padStart(3)}/${s.total} ${p.status.padEnd(16)} ${p.title}`);
    if (p.reason !== null) for (const line of p.reason.split("\n")) out.push(`          ${line}`);
    for (const f of p.applied) {
      out.push(
        `          ${f.method.padEnd(9)} ${f.path}${f.notes.length > 0 ? `  ${f.notes.join(" ")}` : ""}`,
      );
      for (const m of f.moved ?? [])
        out.push(
          `          warning: hunk #${m.hunk}, written in "${m.section}", applied ${Math.abs(m.offset)} lines ${m.offset > 0 ? "lower" : "higher"} in "${m.landed}"`,
        );
    }
    if (p.leftOut.length > 0)
      out.push(
        `          left out (${p.leftOut.length}): ${p.leftOut.map((l) => `${l.path} (${l.why})`).join(", ")}`,
      );
  }
  out.push("  files:");
  for (const f of report.files) {
    const runs = f.text !== null ? "C    " : "model";
    out.push(`    ${runs} ${f.path}: ${describeProvenance(f.provenance)}`);
  }
  return `${out.join("\n")}\n`;
}
