/**
 * Full-matrix time: every built-in version x every scenario (runMatrix), after warm-up runs (the JIT and the
 * fixture and verdict caches settle: that is "after start-up"), over N runs.
 * Goal: under 50 ms per full matrix after start-up. Returns lines such as "full matrix (6 x 16 cells): 42.1 ms".
 */
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
  return [
    `full matrix (${cells}), median of ${runs}: ${median.toFixed(1)} ms`,
    `full matrix (${cells}), mean of ${runs}: ${mean.toFixed(1)} ms (min ${times[0]?.toFixed(1)} ms, max ${times[times.length - 1]?.toFixed(1)} ms)`,
  ];
}
