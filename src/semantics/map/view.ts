/**
 * The series replayed over a sparse picture of each file: we never have the v6.15 sources, only what the hunks
 * show (context, added and deleted lines). Applying the patches in order keeps, for every line the series
 * showed, its current text, its current line number, the function around it and, when the series added it,
 * the patch and post-patch line that added it. Rules read this final picture; unmodelled changes are the
 * added or deleted lines no rule consumed.
 */
import type { Parser } from "web-tree-sitter";
import type { FileChange, Hunk, Patch, Series } from "../../series/types.ts";
import { scopeName, scopesOf } from "./cscope.ts";
import type { Evidence } from "./types.ts";

export interface VLine {
  text: string;
  /** Where the series added the line; null for a line the series only showed as context. */
  added: Evidence | null;
  /** Function (or struct, or initialised variable) around the line, as last seen. */
  fn: string | null;
  consumed: boolean;
  /**
   * A rule read the line and found the code departing from the model there (why, in words): the line stays
   * an unexplained change, whatever consumed it.
   */
  unread?: string;
}

export interface Deletion {
  text: string;
  fn: string | null;
  /** The patch that deleted the line; line = post-patch line where the deletion happened. */
  where: Evidence;
  /** True when the deleted line was not added by the series itself (a v6.15 line). */
  baseline: boolean;
  consumed: boolean;
}

export interface FileView {
  path: string;
  lines: Map<number, VLine>;
  /** True when the series added the file: every line is known. */
  complete: boolean;
  deleted: boolean;
  deletions: Deletion[];
  patches: number[];
  /** Scopes of the file that are data (types, initialised tables such as an ops table), not functions. */
  data: Set<string>;
}

export interface SeriesView {
  files: Map<string, FileView>;
  /** Files in the order the series first touched them. */
  order: string[];
}

function lastOldLine(h: Hunk): number {
  return h.oldStart + Math.max(h.oldLines, 1) - 1;
}

function evidence(patch: Patch, file: string, fn: string | null, line: number): Evidence {
  return { patch: patch.index, subject: patch.title, file, function: fn, line };
}

function applyChange(parser: Parser, view: FileView, change: FileChange, patch: Patch): void {
  const file = change.path;
  view.patches.push(patch.index);
  if (change.status === "deleted") {
    for (const [n, l] of view.lines) {
      view.deletions.push({
        text: l.text,
        fn: l.fn,
        where: evidence(patch, file, l.fn, n),
        baseline: l.added === null,
        consumed: false,
      });
    }
    view.lines = new Map();
    view.deleted = true;
    view.complete = false;
    return;
  }
  if (change.status === "added") {
    view.lines = new Map();
    view.complete = true;
    view.deleted = false;
  }
  const hunks = [...change.hunks].sort((a, b) => a.oldStart - b.oldStart);
  const next = new Map<number, VLine>();
  for (const [n, l] of view.lines) {
    if (hunks.some((h) => h.oldLines > 0 && n >= h.oldStart && n <= lastOldLine(h))) continue;
    let delta = 0;
    for (const h of hunks)
      if (lastOldLine(h) < n || (h.oldLines === 0 && h.oldStart < n)) delta += h.newLines - h.oldLines;
    next.set(n + delta, l);
  }
  for (const h of hunks) {
    const newSide = h.lines.filter((l) => l.kind !== "del");
    const oldSide = h.lines.filter((l) => l.kind !== "add");
    const isC = /\.[ch]$/.test(file);
    // Outside C the hunk header's section (a YAML key, a Kconfig entry) is the scope of every line.
    const scopes = (side: typeof newSide) =>
      isC
        ? scopesOf(
            parser,
            h.section,
            side.map((l) => l.text),
            view.data,
          )
        : side.map(() => h.section.trim() || null);
    const newFns = scopes(newSide);
    const oldFns = scopes(oldSide);
    let ni = 0;
    let oi = 0;
    let lastNew = h.newStart - 1;
    // Without a header scope, an added line takes the scope of the lines it replaces or follows.
    const headerless = change.status !== "added" && scopeName(h.section) === null;
    let lastFn: string | null = null;
    for (const line of h.lines) {
      if (line.kind === "del") {
        const old = line.oldLine === null ? undefined : view.lines.get(line.oldLine);
        // A hunk without a usable header or definition keeps the scope the line had when last seen.
        const fn = oldFns[oi++] ?? old?.fn ?? null;
        lastFn = fn;
        view.deletions.push({
          text: line.text,
          fn,
          where: evidence(patch, file, fn, lastNew + 1),
          baseline: old === undefined || old.added === null,
          consumed: false,
        });
        continue;
      }
      const known =
        line.kind === "context" && line.oldLine !== null ? view.lines.get(line.oldLine) : undefined;
      const fn = newFns[ni++] ?? known?.fn ?? (line.kind === "add" && headerless ? lastFn : null);
      if (line.kind === "context") lastFn = fn;
      if (line.kind === "context") oi++;
      const n = line.newLine ?? lastNew + 1;
      lastNew = n;
      if (line.kind === "add") {
        next.set(n, { text: line.text, added: evidence(patch, file, fn, n), fn, consumed: false });
      } else {
        const old = line.oldLine === null ? undefined : view.lines.get(line.oldLine);
        next.set(
          n,
          old ? { ...old, text: line.text, fn } : { text: line.text, added: null, fn, consumed: false },
        );
      }
    }
  }
  view.lines = next;
}

/** A file the series has not touched yet: nothing of it is known. */
export function emptyFileView(path: string): FileView {
  return {
    path,
    lines: new Map(),
    complete: false,
    deleted: false,
    deletions: [],
    patches: [],
    data: new Set(),
  };
}

/** Replays every patch of the series over sparse file pictures. */
export function replaySeries(parser: Parser, series: Series): SeriesView {
  const files = new Map<string, FileView>();
  const order: string[] = [];
  for (const patch of series.patches) {
    for (const change of patch.files) {
      if (change.status === "binary") continue;
      const from = change.oldPath ?? change.path;
      let view = files.get(from);
      if (view === undefined) {
        view = emptyFileView(change.path);
        order.push(change.path);
      } else if (from !== change.path) {
        files.delete(from);
        order[order.indexOf(from)] = change.path;
        view.path = change.path;
      }
      files.set(change.path, view);
      applyChange(parser, view, change, patch);
    }
  }
  return { files, order };
}

/** Known lines of a file, in line order. */
export function sortedLines(view: FileView): Array<[number, VLine]> {
  return [...view.lines.entries()].sort((a, b) => a[0] - b[0]);
}

/** The full text of a file whose every line is known (added by the series), else null. */
export function fullText(view: FileView): string | null {
  if (!view.complete) return null;
  const rows = sortedLines(view);
  return rows.map(([, l]) => l.text).join("\n");
}

/**
 * Runs of consecutive known lines (no gap) that lie in function `fn`, each as [line number, line] pairs.
 * Rules read neighbours only inside one run: across a gap nothing is known.
 */
export function runsIn(view: FileView, fn: string): Array<Array<[number, VLine]>> {
  const runs: Array<Array<[number, VLine]>> = [];
  let cur: Array<[number, VLine]> = [];
  let prev = -1;
  for (const [n, l] of sortedLines(view)) {
    if (l.fn !== fn || n !== prev + 1) {
      if (cur.length > 0) runs.push(cur);
      cur = [];
    }
    if (l.fn === fn) cur.push([n, l]);
    prev = n;
  }
  if (cur.length > 0) runs.push(cur);
  return runs;
}

/** The run of consecutive known lines of function `fn` that holds line `n` (empty when none does). */
export function runAt(view: FileView, fn: string, n: number): Array<[number, VLine]> {
  return runsIn(view, fn).find((r) => r.some(([m]) => m === n)) ?? [];
}
