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
  const kept = diffExtentLines(diff);
  return kept === null ? diff : `${kept.join("\n")}\n`;
}

/** diffExtent's lines (each without its line feed), or null when it keeps none (the diff is taken whole). */
function diffExtentLines(diff: string): string[] | null {
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
  return kept.length === 0 ? null : kept;
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

/** parse-diff's hunk header (its test; HUNK_COUNTS is diffExtent's). */
const PARSE_DIFF_CHUNK = /^@@\s+-(\d+),?(\d+)?\s+\+(\d+),?(\d+)?\s@@/;
/** Line terminators other than "\n" (a multiline "^" matches after them too): such a diff takes parse-diff's road. */
const OTHER_TERMINATOR = /[\r\u2028\u2029]/;
const BINARY_LINE = /^(?:GIT binary patch|Binary files .* differ)$/;

/**
 * One git file section (lines[from, to), its first line "diff --git ") read as parse-diff and convertFile
 * read it, without parse-diff's regular expressions on every line: its header lines of plain forms are read
 * by gitHeader, the hunks walked here by their counts. Only a section of the usual shape is read so: a plain
 * header, hunks exactly as long as their headers announce (as diffExtent leaves them), each followed only by
 * the next hunk or "\ No newline at end of file"; anything else (quoted paths, a binary patch, a section
 * without hunks, another "\" line, a hunk of no lines) returns null and goes through parse-diff whole, so
 * both roads give the same FileChange or the same error (test/series/diff-fast.test.ts holds them to that).
 */
function fastSection(lines: readonly string[], from: number, to: number): FileChange | null {
  let first = from + 1;
  while (first < to && !(lines[first] as string).startsWith("@@")) first++;
  if (first === to || !(lines[first] as string).startsWith("@@ ")) return null;
  for (let i = from; i < first; i++) if (BINARY_LINE.test(lines[i] as string)) return null;
  const file = gitHeader(lines, from, first);
  if (file === null) return null;
  const hunks: Hunk[] = [];
  let additions = 0;
  let deletions = 0;
  let i = first;
  while (i < to) {
    const header = lines[i] as string;
    const m = PARSE_DIFF_CHUNK.exec(header);
    if (m === null || !HUNK_COUNTS.test(header)) return null;
    const oldStart = Number(m[1]);
    const newStart = Number(m[3]);
    const oldLines = m[2] ? Number(m[2]) : 1;
    const newLines = m[4] ? Number(m[4]) : 1;
    if (oldLines === 0 && newLines === 0) return null;
    let oldLeft = oldLines;
    let newLeft = newLines;
    let oldLine = oldStart;
    let newLine = newStart;
    const out: HunkLine[] = [];
    i++;
    while (oldLeft !== 0 || newLeft !== 0) {
      if (i >= to) return null;
      const line = lines[i++] as string;
      const c = line.charCodeAt(0);
      if (c === 0x5c) {
        const last = out[out.length - 1];
        if (line !== NO_NEWLINE || last === undefined) return null;
        last.noNewlineAtEnd = true;
        continue;
      }
      if (c === 0x2d) {
        if (--oldLeft < 0) return null;
        deletions++;
        out.push({ kind: "del", text: line.slice(1), oldLine: oldLine++, newLine: null });
      } else if (c === 0x2b) {
        if (--newLeft < 0) return null;
        additions++;
        out.push({ kind: "add", text: line.slice(1), oldLine: null, newLine: newLine++ });
      } else {
        if (--oldLeft < 0 || --newLeft < 0) return null;
        out.push({ kind: "context", text: line.slice(1), oldLine: oldLine++, newLine: newLine++ });
      }
    }
    while (i < to && (lines[i] as string).charCodeAt(0) === 0x5c) {
      const last = out[out.length - 1];
      if (lines[i] !== NO_NEWLINE || last === undefined) return null;
      last.noNewlineAtEnd = true;
      i++;
    }
    hunks.push({
      header,
      oldStart,
      oldLines,
      newStart,
      newLines,
      section: HUNK_HEADER.exec(header)?.[1]?.trim() ?? "",
      lines: out,
    });
  }
  const converted = convertFile({ ...file, chunks: [], additions, deletions }, null);
  return { ...converted, hunks };
}

const GIT_LINE = /^diff --git a\/([^\s"']+) b\/([^\s"']+)$/;
const PLAIN_PATH = /^[^\s"']+$/;
const MODE_LINE = /^(new file mode|deleted file mode|old mode|new mode) (\d+)$/;
/** parse-diff's index line. */
const INDEX_LINE = /^index\s[\da-zA-Z]+\.\.[\da-zA-Z]+(\s(\d+))?$/;
/** Header lines parse-diff passes over. */
const IGNORED_LINE =
  /^(?:similarity index |dissimilarity index |rename from |rename to |copy from |copy to )/;

/**
 * The header lines of a git file section, lines[from, first), as parse-diff reads them, when each is of a
 * plain form: "diff --git a/P b/Q", "--- a/P" and "+++ b/Q" (or /dev/null) with paths without white space or
 * quotes (for them parse-diff's path expressions give P and Q), mode and index lines, and the rename, copy
 * and similarity lines it passes over. Any other line returns null: parse-diff reads that header.
 */
function gitHeader(lines: readonly string[], from: number, first: number): parseDiff.File | null {
  const git = GIT_LINE.exec(lines[from] as string);
  if (git === null) return null;
  const file: parseDiff.File = { chunks: [], deletions: 0, additions: 0, from: git[1], to: git[2] };
  for (let i = from + 1; i < first; i++) {
    const line = lines[i] as string;
    if (line.startsWith("--- ") || line.startsWith("+++ ")) {
      const path = line.slice(4);
      const old = line[0] === "-";
      if (path === "/dev/null") {
        if (old) file.from = path;
        else file.to = path;
        continue;
      }
      if (!path.startsWith(old ? "a/" : "b/") || !PLAIN_PATH.test(path)) return null;
      if (old) file.from = path.slice(2);
      else file.to = path.slice(2);
      continue;
    }
    const mode = MODE_LINE.exec(line);
    if (mode !== null) {
      const value = mode[2] as string;
      if (mode[1] === "new file mode") {
        file.new = true;
        file.newMode = value;
        file.from = "/dev/null";
      } else if (mode[1] === "deleted file mode") {
        file.deleted = true;
        file.oldMode = value;
        file.to = "/dev/null";
      } else if (mode[1] === "old mode") file.oldMode = value;
      else file.newMode = value;
      continue;
    }
    const index = INDEX_LINE.exec(line);
    if (index !== null) {
      file.index = line.split(" ").slice(1);
      if (index[1]) file.oldMode = file.newMode = index[1].trim();
      continue;
    }
    if (!IGNORED_LINE.test(line)) return null;
  }
  return file;
}

/** The diff's file sections, each as parse-diff reads it, or through fastSection. */
function sectionsOf(kept: readonly string[], fast: boolean): FileChange[] | null {
  const starts: number[] = [];
  for (let i = 0; i < kept.length; i++) if ((kept[i] as string).startsWith("diff --git ")) starts.push(i);
  if (starts.length === 0) return null;
  const files: FileChange[] = [];
  for (let k = 0; k < starts.length; k++) {
    const from = starts[k] as number;
    const to = k + 1 < starts.length ? (starts[k + 1] as number) : kept.length;
    const quick = fast ? fastSection(kept, from, to) : null;
    if (quick !== null) {
      files.push(quick);
      continue;
    }
    const section = kept.slice(from, to).join("\n");
    const parsed = parseSection(section);
    if (parsed.length !== 1) throw new InputError("diff does not parse: a file section could not be read");
    files.push(convertFile(parsed[0] as parseDiff.File, section));
  }
  return files;
}

/**
 * Parses the diff part of a patch mail. Throws InputError (without subject; the caller names the mail).
 * `fast` (the default) reads git file sections of the usual shape without parse-diff's pass over their hunk
 * lines (fastSection); false reads every section with parse-diff, the reference the fast road is tested on.
 */
export function parseFileChanges(diff: string, fast = true): ParsedDiff {
  const kept = OTHER_TERMINATOR.test(diff) ? null : diffExtentLines(diff);
  let files = kept === null ? null : sectionsOf(kept, fast);
  if (files === null) {
    files = [];
    for (const section of splitSections(diffExtent(diff))) {
      const parsed = parseSection(section);
      const git = section.startsWith("diff --git ");
      if (git && parsed.length !== 1)
        throw new InputError("diff does not parse: a file section could not be read");
      for (const file of parsed) files.push(convertFile(file, git ? section : null));
    }
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
