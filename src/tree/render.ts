/**
 * A parsed file change written back as the git diff `git apply` reads: headers (modes, blob ids for the
 * three-way fallback, renames) and hunks line by line, "\ No newline at end of file" where the diff had it.
 */
import type { FileChange } from "../series/types.ts";

const ZERO = "0000000";

export function renderFileDiff(f: FileChange): string {
  const from = f.oldPath ?? f.newPath ?? f.path;
  const to = f.newPath ?? f.oldPath ?? f.path;
  const out = [`diff --git a/${from} b/${to}`];
  const blobs = (a: string | null, b: string | null) => `${a ?? ZERO}..${b ?? ZERO}`;
  const known = f.oldBlob !== null || f.newBlob !== null;
  if (f.status === "added") {
    out.push(`new file mode ${f.newMode ?? "100644"}`);
    if (known) out.push(`index ${blobs(f.oldBlob, f.newBlob)}`);
  } else if (f.status === "deleted") {
    out.push(`deleted file mode ${f.oldMode ?? "100644"}`);
    if (known) out.push(`index ${blobs(f.oldBlob, f.newBlob)}`);
  } else {
    if (f.oldMode !== null && f.newMode !== null && f.oldMode !== f.newMode)
      out.push(`old mode ${f.oldMode}`, `new mode ${f.newMode}`);
    if (f.status === "renamed") out.push(`rename from ${from}`, `rename to ${to}`);
    if (known) {
      const same = f.oldMode !== null && f.oldMode === f.newMode ? ` ${f.oldMode}` : "";
      out.push(`index ${blobs(f.oldBlob, f.newBlob)}${same}`);
    }
  }
  if (f.hunks.length > 0) {
    out.push(f.oldPath === null ? "--- /dev/null" : `--- a/${from}`);
    out.push(f.newPath === null ? "+++ /dev/null" : `+++ b/${to}`);
  }
  for (const h of f.hunks) {
    out.push(h.header);
    for (const l of h.lines) {
      out.push(`${l.kind === "add" ? "+" : l.kind === "del" ? "-" : " "}${l.text}`);
      if (l.noNewlineAtEnd) out.push("\\ No newline at end of file");
    }
  }
  return `${out.join("\n")}\n`;
}

/** The changes of one patch as one diff. */
export function renderDiff(files: readonly FileChange[]): string {
  return files.map(renderFileDiff).join("");
}
