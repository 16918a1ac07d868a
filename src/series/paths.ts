/**
 * Paths a diff names that cannot be files of a source tree: absolute paths ("/etc/shadow"), paths that climb
 * out of it ("../../outside.c", "drivers/../../x"), and paths with control characters. git apply refuses such
 * paths; ingest keeps the change but warns, naming the path, and the map lists it, so it is never taken for
 * a file of the tree without a word.
 */
import type { FileChange } from "./types.ts";

/** Why `path` is not a path inside a source tree, or null when it is one. */
export function outsideTree(path: string): string | null {
  if (path.startsWith("/") || /^[A-Za-z]:[\\/]/.test(path)) return "an absolute path";
  if (path.split(/[\\/]/).includes("..")) return 'a path that climbs out of the tree with ".."';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is looked for.
  if (/[\u0000-\u001f\u007f]/.test(path)) return "a path with control characters";
  return null;
}

export interface OutsidePath {
  /** The patch's index in its series. */
  patch: number;
  path: string;
  why: string;
}

/** The old and new paths of the files of some patches that are outside the tree, in patch order. */
export function pathsOutsideTree(
  patches: readonly { index: number; files: readonly FileChange[] }[],
): OutsidePath[] {
  const out: OutsidePath[] = [];
  for (const p of patches) {
    const seen = new Set<string>();
    for (const f of p.files) {
      for (const path of [f.oldPath, f.newPath]) {
        if (path === null || seen.has(path)) continue;
        seen.add(path);
        const why = outsideTree(path);
        if (why !== null) out.push({ patch: p.index, path, why });
      }
    }
  }
  return out;
}
