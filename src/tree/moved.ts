/**
 * Hunks that applied somewhere else: `git apply` places a hunk whose context it finds away from the line the
 * hunk names (an offset), which on another base can be inside another function with the same lines (a
 * function's common tail). The `@@` line of a hunk carries git's section: the nearest line above the hunk
 * that starts a definition (git's default rule: it begins with a letter, `_` or `$`). The same rule applied
 * where the hunk landed tells whether it stayed in its function. Plain text, no git: Workers-safe.
 */
import type { FileChange } from "../series/types.ts";
import type { MovedHunk } from "./types.ts";

const DEFAULT_START = /^[A-Za-z_$]/;
const CPP_START = /^(?:::\s*)?[A-Za-z_]/;
const CPP_LABEL = /^[ \t]*[A-Za-z_][A-Za-z_0-9]*:\s*(?:$|\/[*/])/;

/** git's section above 1-based `line` of `lines` (a file at `path`): the nearest earlier definition line. */
export function sectionAbove(lines: readonly string[], line: number, path: string): string {
  const cpp = /\.[ch]$/.test(path);
  for (let i = Math.min(line - 2, lines.length - 1); i >= 0; i--) {
    const l = lines[i] as string;
    if (cpp ? CPP_START.test(l) && !CPP_LABEL.test(l) : DEFAULT_START.test(l)) return l.trimEnd();
  }
  return "";
}

/**
 * The hunks of `change` that git's notes ("Hunk #2 succeeded at 2115 (offset 98 lines).") place under another
 * section than their `@@` line names. The author's git took a hunk's section from the file before the patch;
 * git apply counts the line it names with the earlier hunks already applied, so their growth is taken off
 * and the section read in `preimage` (the file before this patch). A hunk without a section, or whose
 * section git truncated, compares on what it carries.
 */
export function movedHunks(preimage: string, change: FileChange, notes: readonly string[]): MovedHunk[] {
  const lines = preimage.split("\n");
  const out: MovedHunk[] = [];
  for (const note of notes) {
    const m = /^Hunk #(\d+) succeeded at (\d+) \(offset (-?\d+) lines?\)\.$/.exec(note);
    if (m === null) continue;
    const hunk = Number(m[1]);
    const h = change.hunks[hunk - 1];
    if (h === undefined) continue;
    const section = h.section.trim();
    if (section === "") continue;
    let at = Number(m[2]);
    for (const earlier of change.hunks.slice(0, hunk - 1)) at -= earlier.newLines - earlier.oldLines;
    const landed = sectionAbove(lines, at, change.path);
    if (landed.slice(0, section.length).trimEnd() === section) continue;
    out.push({ hunk, section, landed, offset: Number(m[3]) });
  }
  return out;
}

/** One sentence per moved hunk of a tree report's patches, for the reports' notes and the CLI. */
export function describeMoved(
  patches: readonly { index: number; applied: readonly { path: string; moved?: readonly MovedHunk[] }[] }[],
  total: number,
): string[] {
  const out: string[] = [];
  for (const p of patches)
    for (const f of p.applied)
      for (const mh of f.moved ?? [])
        out.push(
          `patch ${p.index}/${total}: hunk #${mh.hunk} of ${f.path}, written in "${mh.section}", applied ${Math.abs(mh.offset)} lines ${mh.offset > 0 ? "lower" : "higher"} in "${mh.landed}": the C that ran has it there, not where the series wrote it`,
        );
  return out;
}
