/**
 * The source of the modelled C files with a series applied: what the interpreter runs, and where each
 * file's text came from. Plain JSON (a report made on Node travels to Workers with the job); nothing here
 * reads a file or runs git (src/node/kernel-tree.ts does, src/tree/standalone.ts needs neither).
 */

/**
 * The base the patches were applied to.
 * - `commit`: the tree is a git repository that has the series' base-commit; blobs were read from it.
 * - `worktree`: the files of the tree as they are on disk (a plain directory, or a git tree without the
 *   base-commit); `reason` says why the base-commit was not used.
 * - `none`: no kernel tree; only the files the series creates whole exist.
 */
export type TreeBase =
  | { kind: "commit"; tree: string; commit: string; named: string }
  | { kind: "worktree"; tree: string; git: boolean; head: string | null; reason: string }
  | { kind: "none"; reason: string };

/** What happens to a change to a file the tree lacks. */
export type MissingFilePolicy =
  /** Leave that file's change out and apply the rest (a rename of an op in every driver still applies). */
  | "leave-out"
  /** The patch fails, as `git am` does. */
  | "fail";

/** How git applied one file of a patch. */
export interface AppliedFile {
  path: string;
  /** `three-way`: merged from the blobs the patch names; `direct`: its context found in the file. */
  method: "three-way" | "direct";
  /** What git said about it, e.g. "Hunk #1 succeeded at 2518 (offset 33 lines)." */
  notes: string[];
  /**
   * Hunks git applied away from where they were written, into another function: the line git names as a
   * hunk's section (the enclosing function's first line) differs where it applied. Absent: none moved.
   */
  moved?: MovedHunk[];
}

/** A hunk applied by offset inside another function than the one its `@@` line names. */
export interface MovedHunk {
  /** 1-based, in the file's change. */
  hunk: number;
  /** The section its `@@` line names (where the author's tree had it). */
  section: string;
  /** The section line above where it applied in this base. */
  landed: string;
  /** git's offset in lines. */
  offset: number;
}

export interface LeftOut {
  path: string;
  why: string;
}

export interface PatchOutcome {
  /** 1-based position in the series. */
  index: number;
  /** The commit summary line. */
  title: string;
  /**
   * - `applied`: every change that was kept applied;
   * - `failed`: it did not apply (`reason` has git's words), nothing of it is in the result;
   * - `nothing-to-apply`: every file it changes was left out.
   */
  status: "applied" | "failed" | "nothing-to-apply";
  reason: string | null;
  /** The files it changes that were tried (applied, or attempted when it failed), new paths. */
  files: string[];
  /** Per file, how it applied (empty unless applied). */
  applied: AppliedFile[];
  /** Changes not tried: files the tree lacks, binary diffs. */
  leftOut: LeftOut[];
}

export type FallbackCause =
  /** No kernel tree was given: a file of the tree is not available. */
  | "no-tree"
  /** The tree lacks the file (and the series does not create it). */
  | "not-in-tree"
  /** A patch that changes (or creates) the file did not apply. */
  | "patch-failed"
  /** The file includes, directly or through another header, a header a failed patch changes. */
  | "header-failed"
  /** A patch of the series is missing: what it changes cannot be known. */
  | "series-incomplete";

/** Where the text of a file came from. Patch numbers are the series' 1-based indexes. */
export type Provenance =
  | { kind: "base" }
  | { kind: "patched"; patches: number[] }
  | { kind: "created"; patch: number; patches: number[] }
  | { kind: "deleted"; patch: number }
  /** The hand model runs it: the text is not the posted code's result. */
  | { kind: "fallback"; cause: FallbackCause; reason: string; patches: number[] };

export interface TreeFile {
  /** Path in the kernel tree, e.g. "drivers/remoteproc/remoteproc_core.c". */
  path: string;
  role: "source" | "header";
  /** The text to run; null when the provenance is `fallback` or `deleted`. */
  text: string | null;
  provenance: Provenance;
}

export interface TreeReport {
  /** The series' id ("v16") and title. */
  series: string;
  title: string;
  /** The base-commit the series names, as written; null when it names none. */
  seriesBase: string | null;
  base: TreeBase;
  policy: MissingFilePolicy;
  /** Patch numbers the series lacks (then every file falls back: what they change is unknown). */
  missingPatches: number[];
  patches: PatchOutcome[];
  /** The modelled files and every C file or header the series creates, in a stable order. */
  files: TreeFile[];
  summary: { applied: number; failed: number; nothingToApply: number; total: number };
}
