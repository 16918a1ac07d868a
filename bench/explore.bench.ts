/**
 * Explore throughput: one version searched in this thread at depth 4 and 5 (transitions, distinct states and
 * the fork/event/teardown split per second on one core), then every built-in version in worker threads with
 * classification (wall time). A transition runs one event on a fork of a reached state (src/fork.ts).
 */
import { availableParallelism } from "node:os";
import { loadFixtures } from "../src/emulator/api.ts";
import { explore } from "../src/explore/index.ts";
import { Session } from "../src/explore/session.ts";
import { builtinItems, exploreVersions } from "../src/node/explore-workers.ts";
import { BUILTIN_VERSIONS, builtinVersion } from "../src/semantics/versions.ts";

const DEPTHS = [4, 5];
const perSecond = (n: number, ms: number): number => Math.round((n * 1000) / ms);

/** Mean time of `f` over `n` runs after `n / 5` warm-up runs, in microseconds. */
async function micros(n: number, f: () => unknown): Promise<number> {
  for (let i = 0; i < n / 5; i++) await f();
  const t = performance.now();
  for (let i = 0; i < n; i++) await f();
  return ((performance.now() - t) * 1000) / n;
}

export async function benchExplore(): Promise<string[]> {
  const fixtures = await loadFixtures();
  const v14 = builtinVersion("v14");
  if (v14 === undefined) throw new Error("no built-in v14");
  const design = { id: v14.id, facts: v14.facts };
  await explore(design, fixtures, { depth: 3 }); // warm-up (JIT, fixtures)
  const lines: string[] = [];
  for (const depth of DEPTHS) {
    const r = await explore(design, fixtures, { depth });
    lines.push(
      `v14 depth ${depth}, 1 thread: ${r.states} distinct states, ${r.transitions} transitions, ${r.teardowns} teardowns in ${(r.elapsedMs / 1000).toFixed(2)} s`,
      `states per second (1 core, depth ${depth}): ${perSecond(r.transitions, r.elapsedMs)} transitions/s, ${perSecond(r.states, r.elapsedMs)} distinct states/s (goal 200000 states/s per core)`,
    );
  }
  // Where a transition's time goes, on a state two events deep (v14 after start, crash).
  const s = await Session.start({ facts: v14.facts }, fixtures);
  await s.apply("start");
  await s.apply("crash");
  const fork = await micros(2000, () => s.fork());
  const hash = await micros(2000, () => s.hash());
  const stop = await micros(500, async () => s.fork().apply("stop"));
  const teardown = await micros(500, async () => s.fork().finish());
  lines.push(
    `one transition's parts (v14 after start, crash): fork ${fork.toFixed(1)} us, fork + stop ${stop.toFixed(1)} us, hash ${hash.toFixed(1)} us, fork + teardown ${teardown.toFixed(1)} us`,
  );
  const depth = DEPTHS[0] as number;
  const threads = Math.min(availableParallelism(), BUILTIN_VERSIONS.length);
  const started = performance.now();
  const items = builtinItems(BUILTIN_VERSIONS.map((v) => v.id));
  const all = await exploreVersions({ items, depth, threads });
  const ms = performance.now() - started;
  // Versions with the same facts as an earlier one reuse its search: only searches count as transitions.
  const searched = all.filter((x) => x.sameFactsAs === undefined);
  const transitions = searched.reduce((n, x) => n + x.transitions, 0);
  const findings = all.reduce((n, x) => n + x.findings.length, 0);
  lines.push(
    `all ${all.length} versions depth ${depth} (${searched.length} distinct designs searched), ${threads} worker threads, with classification: ${transitions} transitions, ${findings} findings in ${(ms / 1000).toFixed(2)} s = ${perSecond(transitions, ms)} transitions/s`,
  );
  return lines;
}
