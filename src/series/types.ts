/**
 * The data model of a patch series, whatever it came from (mail, mbox, pull request, git range).
 * Every value is plain JSON (strings, numbers, booleans, arrays, objects): a Series can be stored and
 * read back as it is. Line numbers are 1-based; `null` means "not applicable" (an added line has no old
 * line number), never "unknown".
 */

/** A person as a mail header or a trailer names them. */
export interface Person {
  name: string;
  email: string;
}

/** Kind of one line in a hunk: an added line, a deleted line, or unchanged context. */
export type HunkLineKind = "add" | "del" | "context";

export interface HunkLine {
  kind: HunkLineKind;
  /** The line without its diff prefix (`+`, `-` or space) and without the line break. */
  text: string;
  /** Line number in the old file; null for added lines. */
  oldLine: number | null;
  /** Line number in the new file; null for deleted lines. */
  newLine: number | null;
  /** True when the diff says "\ No newline at end of file" after this line. */
  noNewlineAtEnd?: boolean;
}

export interface Hunk {
  /** The full `@@ -a,b +c,d @@ section` line. */
  header: string;
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  /** What git puts after the second `@@` (usually the enclosing function's line); "" if nothing. */
  section: string;
  lines: HunkLine[];
}

export type FileStatus = "added" | "deleted" | "modified" | "renamed" | "binary";

export interface FileChange {
  /** Path before the change (without `a/`); null when the file is added. */
  oldPath: string | null;
  /** Path after the change (without `b/`); null when the file is deleted. */
  newPath: string | null;
  /** The path to show: newPath, else oldPath. */
  path: string;
  status: FileStatus;
  oldMode: string | null;
  newMode: string | null;
  /** Abbreviated blob ids from the `index` line, when present. They are not part of the code identity. */
  oldBlob: string | null;
  newBlob: string | null;
  additions: number;
  deletions: number;
  /** Empty for binary files and pure renames/mode changes. */
  hunks: Hunk[];
}

/** A `Key: value` line at the end of a commit message (Signed-off-by, Reviewed-by, Fixes, Link, …). */
export interface Trailer {
  /** Canonical spelling, e.g. "Signed-off-by", "Reviewed-by", "Fixes". */
  key: string;
  value: string;
  /** Set when the value is a person ("Name <email>"). */
  person: Person | null;
}

/**
 * One item of a changelog ("Updates vs previous version:", "Main updates from version V15[1]:",
 * "Changes in v3:", "v2 -> v3:").
 */
export interface ChangelogNote {
  text: string;
  /** The heading line the item came under, as written. */
  heading: string;
  /**
   * The version the heading names, normalised ("v15"); null when it only says "previous version".
   * With relation "since" the note describes changes since that version; with "in", changes made in it.
   */
  refersTo: string | null;
  relation: "since" | "in";
  /** Where it was found: the cover letter or a patch (then patchIndex is set). */
  source: "cover" | "patch";
  patchIndex: number | null;
}

/** Headers of one mail that a reply or a thread lookup needs. */
export interface MailHeaders {
  /** Without angle brackets; for inputs without mail (pull request, git range) a synthetic id. */
  messageId: string;
  /** The subject as sent, prefixes included. */
  subject: string;
  inReplyTo: string | null;
  /** Message-ids of the References header, oldest first, without angle brackets. */
  references: string[];
  author: Person;
  /** ISO 8601, or null when the mail has no parseable date. */
  date: string | null;
  /** Where the mail came from: a file name, "file#3" for the 3rd mail of an mbox, a commit sha. */
  origin: string;
}

export interface CoverLetter extends MailHeaders {
  /** The subject without `[PATCH …]` prefixes. */
  title: string;
  body: string;
  changelog: ChangelogNote[];
}

export interface Patch extends MailHeaders {
  /** 1-based position in the series. */
  index: number;
  total: number;
  /** The subject without prefixes: the commit's summary line. */
  title: string;
  /** The commit message body (after the summary), trailers included, up to the first `---` line. */
  message: string;
  trailers: Trailer[];
  changelog: ChangelogNote[];
  files: FileChange[];
  /** Code identity of the diff: see patchId() in ./patchid.ts. */
  patchId: string;
}

export interface SeriesVersion {
  /** "v16", "v5.1", "v1". */
  label: string;
  major: number;
  /** The part after the dot of a partial reroll (v5.1 → 1), else null. */
  minor: number | null;
  resend: boolean;
  rfc: boolean;
  /** Other words of the subject prefix, e.g. ["net-next"]. */
  tags: string[];
}

export type IngestWarningCode =
  | "missing-patch"
  | "duplicate-patch"
  | "not-a-patch"
  | "html-only"
  | "binary-diff"
  | "no-cover-letter"
  | "mixed-series"
  | "total-mismatch"
  /** A diff names a path outside the source tree (absolute, "..", control characters): see paths.ts. */
  | "outside-tree";

export interface IngestWarning {
  code: IngestWarningCode;
  message: string;
  /** The mail it is about: "origin <message-id>"; null when it is about the series as a whole. */
  mail: string | null;
}

export interface Series {
  /** "v16", "v16-resend", "v2-rfc": stable within a chain (see chainVersions for disambiguation). */
  id: string;
  title: string;
  version: SeriesVersion;
  /** Full sha or abbreviation from `base-commit:` (b4/git --base) or, failing that, a PR's base sha. */
  base: string | null;
  /** The text after "Tested-on:", e.g. `commit 0a0ba9924445 ("Linux 6.14-rc7")`. */
  testedOn: string | null;
  changeId: string | null;
  /** `prerequisite-patch-id:` and `prerequisite-message-id:` values. */
  prerequisites: string[];
  cover: CoverLetter | null;
  /** Ordered by index; missing ones are named by `missing`, never invented. */
  patches: Patch[];
  /** The N of i/N. */
  total: number;
  /**
   * Indices of 1..total that did not arrive, in order: all of them when at most MAX_LISTED_MISSING (100),
   * else the first 100. A subject's total is not bounded, so seriesMissing() (./missing.ts) gives every
   * gap as ranges and describeMissing() the text to show; never enumerate up to `total`.
   */
  missing: number[];
  author: Person;
  /** Date of the cover letter, else of the first patch (ISO 8601). */
  date: string | null;
  /** The input it came from, e.g. "../shared/lkml/v16", "pr:owner/repo#12", "git:/repo:a..b". */
  origin: string;
  /**
   * Message-ids this series points at: References/In-Reply-To of its mails and lore/msgid links in the
   * cover letter and changelogs (used to link versions).
   */
  mentions: string[];
  warnings: IngestWarning[];
}

export interface ChainEntry {
  /** Series id, made unique within the chain ("v16", "v16-resend"). */
  id: string;
  version: string;
  resend: boolean;
  /** Cover letter's Message-ID, else the first patch's. */
  messageId: string;
  title: string;
  origin: string;
  /** Position of the series in the array given to chainVersions. */
  input: number;
  /** Id of an earlier entry whose code is identical (same patch-ids in the same order), else null. */
  sameCodeAs: string | null;
  /** Id of the entry this one follows, else null (first of its chain, or unrelated). */
  follows: string | null;
  /** Why `follows` was chosen. */
  linkedBy: "change-id" | "reference" | "same-code" | "similarity" | null;
}

export interface SeriesChain {
  /** One entry per series given, oldest first (version number, then resend, then date). */
  entries: ChainEntry[];
  /** E.g. "v3 follows none of the other inputs". */
  warnings: string[];
}

/** Limits on input size; over a limit the input is refused with an InputError naming the mail. */
export interface IngestLimits {
  /** Added plus deleted lines of one patch. Default 20 000. */
  maxChangedLinesPerPatch: number;
  /** Bytes of one input (an mbox, a directory, a pull request). Default 50 MB. */
  maxInputBytes: number;
  /** Lines of one mail, counted before it is decoded. Default 100 000. */
  maxLinesPerMail: number;
  /** MIME parts of one mail, counted before it is decoded. Default 200. */
  maxMimeParts: number;
}
