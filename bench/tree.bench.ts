/**
 * Applying a posted series to the real 6.12 sources with git (the temporary repository, one git apply and
 * commit per patch): milliseconds per series, median of a few runs; and the strict applier without a tree.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadInput } from "../src/node/inputs.ts";
import { applySeriesToTree } from "../src/node/kernel-tree.ts";
import { applyWithoutTree } from "../src/tree/index.ts";

const SHARED = fileURLToPath(new URL("../../shared/", import.meta.url));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

export async function benchTree(runs = 5): Promise<string[]> {
  const tree = join(SHARED, "kernel", "linux-6.12");
  if (!existsSync(tree)) return [`skipped: ${tree} is absent`];
  const out: string[] = [];
  for (const v of ["v16", "v13", "v15"]) {
    const series = await loadInput(join(SHARED, "lkml", v));
    const times: number[] = [];
    let applied = "";
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      const r = await applySeriesToTree(series, tree);
      times.push(performance.now() - t);
      applied = `${r.summary.applied}/${r.summary.total}`;
    }
    out.push(`${v} on linux-6.12 (${applied} applied): ${median(times).toFixed(0)} ms`);
  }
  const v16 = await loadInput(join(SHARED, "lkml", "v16"));
  const t = performance.now();
  for (let i = 0; i < 100; i++) applyWithoutTree(v16);
  out.push(`v16 without a tree (created files only): ${((performance.now() - t) / 100).toFixed(2)} ms`);
  return out;
}
