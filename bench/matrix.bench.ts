/**
 * Full-matrix time: every built-in version x every scenario (runMatrix), after warm-up runs (the JIT and the
 * fixture and verdict caches settle: that is "after start-up"), over N runs.
 * Goal: under 50 ms per full matrix after start-up. Returns lines such as "full matrix (6 x 16 cells): 42.1 ms".
 * Then the interleaving rows (`matrix --interleave`: the three interleaving scenarios searched on every built-in
 * design to REVIEW_INTERLEAVE_DEPTH), timed the same way: what they would add to the matrix, and why they are
 * behind a flag.
 */
import { loadFixtures } from "../src/emulator/fixtures.ts";
import { runInterleaveRows } from "../src/explore/kernel-interleave.ts";
import { REVIEW_INTERLEAVE_DEPTH } from "../src/review/depth.ts";
import { runMatrix } from "../src/scenarios/run.ts";
import { SCENARIOS } from "../src/scenarios/scenarios.ts";
import { BUILTIN_VERSIONS } from "../src/semantics/versions.ts";

export async function benchMatrix(runs = 50, warmup = 5): Promise<string[]> {
  const designs = BUILTIN_VERSIONS.map((v) => ({ id: v.id, title: v.title, facts: v.facts }));
  for (let i = 0; i < warmup; i++) await runMatrix(designs);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await runMatrix(designs);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)] ?? 0;
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  const cells = `${designs.length} x ${SCENARIOS.length} cells`;
  // The interleaving rows: fewer runs, each is hundreds of executions.
  const fixtures = await loadFixtures();
  await runInterleaveRows(designs, REVIEW_INTERLEAVE_DEPTH, fixtures);
  const rowTimes: number[] = [];
  let executions = 0;
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    const rows = await runInterleaveRows(designs, REVIEW_INTERLEAVE_DEPTH, fixtures);
    rowTimes.push(performance.now() - start);
    executions = rows.cells.reduce((n, c) => n + c.executions, 0);
  }
  rowTimes.sort((a, b) => a - b);
  const rowMedian = rowTimes[2] ?? 0;
  return [
    `full matrix (${cells}), median of ${runs}: ${median.toFixed(1)} ms`,
    `full matrix (${cells}), mean of ${runs}: ${mean.toFixed(1)} ms (min ${times[0]?.toFixed(1)} ms, max ${times[times.length - 1]?.toFixed(1)} ms)`,
    `interleaving rows (matrix --interleave: ${designs.length} x 3 cells, every schedule to depth ${REVIEW_INTERLEAVE_DEPTH}, ${executions} executions), median of 5: ${rowMedian.toFixed(1)} ms, ${(rowMedian / Math.max(median, 1e-6)).toFixed(0)}x the full matrix (its goal is 50 ms: the rows are behind --interleave)`,
  ];
}
