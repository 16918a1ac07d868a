import parseDiff from "parse-diff";
import { InputError } from "../errors.ts";
import type { FileChange, FileStatus, Hunk, HunkLine } from "./types.ts";

/**
 * Where a diff starts in a mail body: a git diff header, or a plain unified diff's `--- ` line (a/ or
 * /dev/null, or any path when a hunk header follows its `+++ ` line: `--- /etc/shadow`).
 */
export const DIFF_START =
  /^(?:diff --git |--- (?:a\/|\/dev\/null)\S*.*\n\+\+\+ |--- \S.*\n\+\+\+ \S.*\n@@ -\d)/m;

const HUNK_HEADER = /^@@ -\d+(?:,\d+)? \+\d+(?:,\d+)? @@ ?(.*)$/;
const BINARY = /^(?:GIT binary patch|Binary files .* differ)$/m;
const NO_NEWLINE = "\\ No newline at end of file";

export interface ParsedDiff {
  files: FileChange[];
  /** Paths of binary files (kept with status "binary" and no hunks). */
  binary: string[];
}

const HUNK_COUNTS = /^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@/;
/**
 * A signature ("-- ", "--", "--  "), b4's "---" before its tags, a tag line, or scissors ("-- >8 --"): the mail
 * goes on, not the diff.
 */
const FOOTER =
  /^(?:--[ \t]*|---[ \t]*|[- \t]*(?:>8|8<)[- \t]*|(?:base-commit|change-id|prerequisite-(?:patch|message|change)-id):.*)$/;
/** A line that can only belong to a hunk. */
const HUNK_LINE = /^[-+ \\]/;

/** A line for a message: tabs and other characters outside printable ASCII as \t and \uXXXX (a no-break space shows). */
const visible = (line: string): string =>
  line.replace(/[^\x20-\x7e]/g, (c) =>
    c === "\t" ? "\\t" : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );

const isBlankLine = (line: string): boolean => line.trim() === "";
const isPlainHeader = (lines: readonly string[], i: number): boolean =>
  (lines[i] as string).startsWith("--- ") && (lines[i + 1] ?? "").startsWith("+++ ");

/** The path a file header names, for messages. */
function headerPath(lines: readonly string[], from: number, to: number): string {
  for (let i = from; i < to; i++) {
    const line = lines[i] as string;
    if (line.startsWith("+++ ") && !line.startsWith("+++ /dev/null"))
      return line.slice(4).replace(/^b\//, "");
    if (line.startsWith("--- ") && !line.startsWith("--- /dev/null"))
      return line.slice(4).replace(/^a\//, "");
  }
  const git = /^diff --git a\/(\S+) b\/(\S+)/.exec(lines[from] ?? "");
  return git?.[2] ?? lines[from] ?? "";
}

/**
 * The diff of a mail without what follows it, found as git apply finds it: each hunk is read for the number
 * of lines its header announces, so a signature, b4's "---" and tags, or a list's footer after the last hunk
 * is not part of the diff, whatever it says. A hunk with fewer lines than announced, or lines that can only be
 * hunk lines after a hunk is complete (a header that announces fewer lines than follow), is an InputError.
 * The work is bounded by the number of lines, never by the counts a header announces.
 */
export function diffExtent(diff: string): string {
  const lines = diff.split("\n");
  const kept: string[] = [];
  let i = 0;
  let fileStart = 0;
  const outsideHunks = (from: number): never => {
    let n = 0;
    for (let k = from; k < lines.length && !FOOTER.test(lines[k] as string); k++) {
      const line = lines[k] as string;
      if (line.startsWith("diff --git ") || isPlainHeader(lines, k)) break;
      if (HUNK_LINE.test(line) && !isBlankLine(line)) n++;
      else if (!isBlankLine(line)) break;
    }
    throw new InputError(
      `diff does not parse: ${headerPath(lines, fileStart, from)} has ${n} line(s) outside its hunks (a hunk header announces fewer lines than follow)`,
    );
  };
  while (i < lines.length) {
    const line = lines[i] as string;
    if (line.startsWith("diff --git ") || isPlainHeader(lines, i)) {
      fileStart = i;
      kept.push(line);
      i++;
      // The file's header lines (mode, index, rename, binary data), up to its first hunk.
      while (i < lines.length) {
        const h = lines[i] as string;
        if (h.startsWith("@@ ") || h.startsWith("diff --git ") || FOOTER.test(h)) break;
        if (h.startsWith("--- ") && !(lines[i + 1] ?? "").startsWith("+++ ")) break;
        kept.push(h);
        i++;
        if (h.startsWith("+++ ")) break;
      }
      continue;
    }
    const counts = HUNK_COUNTS.exec(line);
    if (counts) {
      kept.push(line);
      let oldLeft = counts[1] === undefined ? 1 : Number(counts[1]);
      let newLeft = counts[2] === undefined ? 1 : Number(counts[2]);
      const wantOld = oldLeft;
      const wantNew = newLeft;
      i++;
      while (oldLeft > 0 || newLeft > 0) {
        const h = lines[i];
        const c = h === undefined ? "" : h[0];
        const fits =
          h !== undefined &&
          (c === "\\" ||
            (c === "+" && newLeft > 0) ||
            (c === "-" && oldLeft > 0) ||
            ((c === " " || h === "") && oldLeft > 0 && newLeft > 0));
        if (!fits) {
          const where =
            h === undefined
              ? "the diff ends"
              : `line ${i + 1}, "${visible(h.slice(0, 60))}${h.length > 60 ? "…" : ""}", is not one of its lines`;
          throw new InputError(
            `diff does not parse: hunk "${line}" of ${headerPath(lines, fileStart, i)} announces ${wantOld} old and ${wantNew} new lines but has ${wantOld - oldLeft} and ${wantNew - newLeft} (${where})`,
          );
        }
        if (c === "+") newLeft--;
        else if (c === "-") oldLeft--;
        else if (c !== "\\") {
          oldLeft--;
          newLeft--;
        }
        kept.push(h);
        i++;
      }
      while ((lines[i] ?? "").startsWith("\\")) kept.push(lines[i++] as string);
      continue;
    }
    // Between or after files: blank lines, or where the mail goes on after the diff.
    if (isBlankLine(line)) {
      i++;
      continue;
    }
    if (kept.length === 0) {
      kept.push(line);
      i++;
      continue;
    }
    if (HUNK_LINE.test(line) && !FOOTER.test(line)) outsideHunks(i);
    // A footer: dropped, unless more of the diff follows it.
    let next = i;
    while (next < lines.length && !(lines[next] as string).startsWith("diff --git ")) {
      if (HUNK_COUNTS.test(lines[next] as string)) {
        throw new InputError(
          `diff does not parse: a hunk of ${headerPath(lines, fileStart, i)} follows text that is not part of a hunk (line ${next + 1}: "${(lines[next] as string).slice(0, 80)}")`,
        );
      }
      next++;
    }
    if (next === lines.length) break;
    for (let k = i; k < next; k++) {
      const junk = lines[k] as string;
      if (HUNK_LINE.test(junk) && !FOOTER.test(junk) && !isBlankLine(junk)) outsideHunks(k);
    }
    i = next;
  }
  return kept.length === 0 ? diff : `${kept.join("\n")}\n`;
}

function splitSections(diff: string): string[] {
  if (!/^diff --git /m.test(diff)) return [diff];
  return diff
    .split(/^(?=diff --git )/m)
    .filter((s) => s.startsWith("diff --git "))
    .map((s) => s.replace(/\n$/, ""));
}

function convertHunk(chunk: parseDiff.Chunk, where: string): Hunk {
  const lines: HunkLine[] = [];
  for (const change of chunk.changes) {
    if (change.content === NO_NEWLINE || change.content.startsWith("\\ ")) {
      const last = lines[lines.length - 1];
      if (last) last.noNewlineAtEnd = true;
      continue;
    }
    const text = change.content.slice(1);
    if (change.type === "add") lines.push({ kind: "add", text, oldLine: null, newLine: change.ln });
    else if (change.type === "del") lines.push({ kind: "del", text, oldLine: change.ln, newLine: null });
    else lines.push({ kind: "context", text, oldLine: change.ln1, newLine: change.ln2 });
  }
  const oldCount = lines.filter((l) => l.kind !== "add").length;
  const newCount = lines.filter((l) => l.kind !== "del").length;
  if (oldCount !== chunk.oldLines || newCount !== chunk.newLines) {
    throw new InputError(
      `diff does not parse: hunk "${chunk.content}" of ${where} announces ${chunk.oldLines} old and ${chunk.newLines} new lines but has ${oldCount} and ${newCount}`,
    );
  }
  return {
    header: chunk.content,
    oldStart: chunk.oldStart,
    oldLines: chunk.oldLines,
    newStart: chunk.newStart,
    newLines: chunk.newLines,
    section: HUNK_HEADER.exec(chunk.content)?.[1]?.trim() ?? "",
    lines,
  };
}

/**
 * Lines of a section from its first hunk header on, that parse-diff must have consumed: at least up to
 * the last non-blank line, at most including trailing blank lines (a context line whose space a mailer
 * dropped).
 */
function hunkBodyLineCount(section: string): { min: number; max: number } {
  const lines = section.split("\n");
  const first = lines.findIndex((l) => l.startsWith("@@ "));
  if (first < 0) return { min: 0, max: 0 };
  let last = lines.length - 1;
  const max = lines.length - first;
  while (last > first && (lines[last] as string).trim() === "") last--;
  return { min: last - first + 1, max };
}

function strip(path: string | undefined): string | null {
  return path === undefined || path === "/dev/null" ? null : path;
}

function convertFile(file: parseDiff.File, section: string | null): FileChange {
  const oldPath = file.new ? null : strip(file.from);
  const newPath = file.deleted ? null : strip(file.to);
  const path = newPath ?? oldPath;
  if (path === null) throw new InputError("diff does not parse: a file header names no path");
  const isBinary = section !== null && BINARY.test(section);
  const status: FileStatus = isBinary
    ? "binary"
    : file.new
      ? "added"
      : file.deleted
        ? "deleted"
        : oldPath !== newPath
          ? "renamed"
          : "modified";
  const hunks = isBinary ? [] : file.chunks.map((c) => convertHunk(c, path));
  if (section !== null && !isBinary) {
    const consumed = file.chunks.reduce((n, c) => n + 1 + c.changes.length, 0);
    const present = hunkBodyLineCount(section);
    if (consumed < present.min) {
      throw new InputError(
        `diff does not parse: ${path} has ${present.min - consumed} line(s) outside its hunks (a hunk header announces fewer lines than follow)`,
      );
    }
    if (consumed > present.max)
      throw new InputError(`diff does not parse: the hunks of ${path} are cut short`);
  }
  const [blobs] = file.index ?? [];
  const [oldBlob, newBlob] = blobs?.includes("..") ? blobs.split("..") : [];
  return {
    oldPath,
    newPath,
    path,
    status,
    oldMode: file.oldMode ?? null,
    newMode: file.newMode ?? null,
    oldBlob: oldBlob ?? null,
    newBlob: newBlob ?? null,
    additions: isBinary ? 0 : file.additions,
    deletions: isBinary ? 0 : file.deletions,
    hunks,
  };
}

/** parse-diff on one file section; it throws a TypeError on some malformed hunks (a marker line first). */
function parseSection(section: string): ReturnType<typeof parseDiff> {
  try {
    return parseDiff(section);
  } catch (e) {
    const first = section.split("\n", 1)[0] ?? "";
    throw new InputError(`diff does not parse: a hunk of "${first.slice(0, 80)}" could not be read`, {
      cause: e,
    });
  }
}

/** Parses the diff part of a patch mail. Throws InputError (without subject; the caller names the mail). */
export function parseFileChanges(diff: string): ParsedDiff {
  const files: FileChange[] = [];
  for (const section of splitSections(diffExtent(diff))) {
    const parsed = parseSection(section);
    const git = section.startsWith("diff --git ");
    if (git && parsed.length !== 1)
      throw new InputError("diff does not parse: a file section could not be read");
    for (const file of parsed) files.push(convertFile(file, git ? section : null));
  }
  if (files.length === 0) throw new InputError("diff does not parse: no file changes found");
  return { files, binary: files.filter((f) => f.status === "binary").map((f) => f.path) };
}

/** Full content of a file the patch adds (from its added lines), else null. */
export function newFileContent(file: FileChange): string | null {
  if (file.status !== "added") return null;
  const lines = file.hunks.flatMap((h) => h.lines);
  if (lines.length === 0) return "";
  const last = lines[lines.length - 1];
  return lines.map((l) => l.text).join("\n") + (last?.noNewlineAtEnd ? "" : "\n");
}
