/**
 * Explore throughput: one version searched to depth 4 in this thread (transitions, distinct states and events
 * per second on one core), then every built-in version in worker threads with classification (wall time).
 * Each transition replays its prefix from a freshly bound world: the model has no clone.
 */
import { availableParallelism } from "node:os";
import { loadFixtures } from "../src/emulator/api.ts";
import { explore } from "../src/explore/index.ts";
import { exploreVersions } from "../src/node/explore-workers.ts";
import { BUILTIN_VERSIONS, builtinVersion } from "../src/semantics/versions.ts";

const DEPTH = 4;
const perSecond = (n: number, ms: number): number => Math.round((n * 1000) / ms);

export async function benchExplore(): Promise<string[]> {
  const fixtures = await loadFixtures();
  const v14 = builtinVersion("v14");
  if (v14 === undefined) throw new Error("no built-in v14");
  const design = { id: v14.id, facts: v14.facts };
  await explore(design, fixtures, { depth: 1 }); // warm-up (JIT, fixtures)
  const r = await explore(design, fixtures, { depth: DEPTH });
  const lines = [
    `v14 depth ${DEPTH}, 1 thread: ${r.states} distinct states, ${r.transitions} transitions, ${r.eventsRun} events in ${(r.elapsedMs / 1000).toFixed(2)} s`,
    `states per second (1 core): ${perSecond(r.transitions, r.elapsedMs)} transitions/s, ${perSecond(r.states, r.elapsedMs)} distinct states/s, ${perSecond(r.eventsRun, r.elapsedMs)} events/s (goal 200000 states/s per core)`,
  ];
  const threads = Math.min(availableParallelism(), BUILTIN_VERSIONS.length);
  const started = performance.now();
  const all = await exploreVersions({ versions: BUILTIN_VERSIONS.map((v) => v.id), depth: DEPTH, threads });
  const ms = performance.now() - started;
  const transitions = all.reduce((n, x) => n + x.transitions, 0);
  const findings = all.reduce((n, x) => n + x.findings.length, 0);
  lines.push(
    `all ${all.length} versions depth ${DEPTH}, ${threads} worker threads, with classification: ${transitions} transitions, ${findings} findings in ${(ms / 1000).toFixed(2)} s = ${perSecond(transitions, ms)} transitions/s`,
  );
  return lines;
}
