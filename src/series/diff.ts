import parseDiff from "parse-diff";
import { InputError } from "../errors.ts";
import type { FileChange, FileStatus, Hunk, HunkLine } from "./types.ts";

/** Where a diff starts in a mail body: a git diff header, or a plain unified diff's `--- ` line. */
export const DIFF_START = /^(?:diff --git |--- (?:a\/|\/dev\/null)\S*.*\n\+\+\+ )/m;

const HUNK_HEADER = /^@@ -\d+(?:,\d+)? \+\d+(?:,\d+)? @@ ?(.*)$/;
const BINARY = /^(?:GIT binary patch|Binary files .* differ)$/m;
const NO_NEWLINE = "\\ No newline at end of file";

export interface ParsedDiff {
  files: FileChange[];
  /** Paths of binary files (kept with status "binary" and no hunks). */
  binary: string[];
}

const TAG = /^(?:base-commit|change-id|prerequisite-(?:patch|message|change)-id):/;

/**
 * Drops what follows the last hunk in a mail: the signature ("-- " then a git version) and the
 * base-commit/change-id tags that git --base and b4 append.
 */
export function stripSignature(diff: string): string {
  let lines = diff.split("\n");
  const whole = lines.length;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (lines[i] !== "-- " && lines[i] !== "--") continue;
    const tail = lines.slice(i + 1).filter((l) => l.trim() !== "");
    if (tail.every((l) => !/^(?:[-+ @\\]|diff )/.test(l))) lines = lines.slice(0, i);
    break;
  }
  let last = lines.length - 1;
  while (last >= 0 && ((lines[last] as string).trim() === "" || TAG.test(lines[last] as string))) last--;
  const tag = lines.findIndex((l, i) => i > last && TAG.test(l));
  // git writes one blank line before the tags; blank lines before it may be context lines of the hunk.
  if (tag > 0) lines = lines.slice(0, lines[tag - 1] === "" ? tag - 1 : tag);
  // Each kept line, the last one included (it may be a blank context line), ends with a line break.
  return lines.length < whole ? `${lines.join("\n")}\n` : diff;
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
  for (const section of splitSections(stripSignature(diff))) {
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
