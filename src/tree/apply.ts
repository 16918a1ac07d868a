/**
 * Hunks applied to a text the way `git apply` does without a three-way merge: every context and deleted
 * line must match exactly; a hunk may move (it is looked for nearest to where it says it starts), never
 * fuzzed. Used where no git runs (Workers, no kernel tree) on files the series itself creates.
 */
import type { Hunk } from "../series/types.ts";

export type ApplyResult = { ok: true; text: string } | { ok: false; reason: string };

interface Lines {
  lines: string[];
  /** True when the text ends with a line break (or is empty). */
  eol: boolean;
}

function split(text: string): Lines {
  if (text === "") return { lines: [], eol: true };
  const eol = text.endsWith("\n");
  const lines = (eol ? text.slice(0, -1) : text).split("\n");
  return { lines, eol };
}

function join(l: Lines): string {
  if (l.lines.length === 0) return "";
  return l.lines.join("\n") + (l.eol ? "\n" : "");
}

function matchesAt(lines: readonly string[], at: number, want: readonly string[]): boolean {
  if (at < 0 || at + want.length > lines.length) return false;
  for (let i = 0; i < want.length; i++) if (lines[at + i] !== want[i]) return false;
  return true;
}

/** The position nearest to `start` where `want` matches, at or after `from`; -1 when nowhere. */
function find(lines: readonly string[], want: readonly string[], start: number, from: number): number {
  const limit = Math.max(lines.length - want.length, 0);
  for (let d = 0; d <= lines.length; d++) {
    const below = start - d;
    const above = start + d;
    if (below >= from && below <= limit && matchesAt(lines, below, want)) return below;
    if (d > 0 && above >= from && above <= limit && matchesAt(lines, above, want)) return above;
    if (below < from && above > limit) break;
  }
  return -1;
}

/** Applies the hunks of one file change to `text` (the empty string for a file being created). */
export function applyHunks(text: string, hunks: readonly Hunk[], path: string): ApplyResult {
  const file = split(text);
  let offset = 0;
  let from = 0;
  for (const [i, h] of hunks.entries()) {
    const old = h.lines.filter((l) => l.kind !== "add").map((l) => l.text);
    const neu = h.lines.filter((l) => l.kind !== "del").map((l) => l.text);
    const start = Math.max((h.oldLines === 0 ? h.oldStart : h.oldStart - 1) + offset, 0);
    const at = old.length === 0 ? Math.min(start, file.lines.length) : find(file.lines, old, start, from);
    if (at < 0) return { ok: false, reason: `hunk #${i + 1} of ${path} (${h.header}) does not match` };
    file.lines.splice(at, old.length, ...neu);
    const last = h.lines[h.lines.length - 1];
    if (at + neu.length === file.lines.length && last !== undefined) {
      // The hunk reaches the end of the file: the diff says whether the new file ends with a line break.
      const newLast = [...h.lines].reverse().find((l) => l.kind !== "del");
      file.eol = newLast === undefined ? true : newLast.noNewlineAtEnd !== true;
    }
    offset += neu.length - old.length + (at - start);
    from = at + neu.length;
  }
  return { ok: true, text: join(file) };
}
