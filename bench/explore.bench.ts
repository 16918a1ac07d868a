/**
 * Explore throughput: one version searched in this thread at depth 4 and 5 (transitions, distinct states and
 * the fork/event/teardown split per second on one core), then every built-in version in worker threads with
 * classification (wall time). A transition runs one event on a fork of a reached state (src/fork.ts). Then v16's
 * posted remoteproc_tee.c from C (../shared/lkml/v16, when present) at depths 2 and 3 beside its facts over the
 * hand model: a C world is not forked, each transition rebuilds it and replays the sequence (Session.copy).
 */
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
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
  const mails = join(fileURLToPath(new URL("..", import.meta.url)), "..", "shared", "lkml", "v16");
  if (!existsSync(mails)) lines.push(`v16 from C: not measured: ${mails} is missing`);
  else {
    const { resolveVersion } = await import("../src/node/versions.ts");
    const v16 = (await resolveVersion(mails)).design;
    if (v16.tee === undefined) throw new Error("v16's mails gave no TEE driver to run from C");
    const c = { id: "v16", facts: v16.facts, tee: v16.tee };
    await explore(c, fixtures, { depth: 1 }); // warm-up (the interpreter's JIT)
    for (const d of [2, 3]) {
      const r = await explore(c, fixtures, { depth: d });
      const m = await explore({ id: "v16", facts: v16.facts }, fixtures, { depth: d });
      lines.push(
        `v16 from C depth ${d}: ${r.states} distinct states, ${r.transitions} transitions, ${r.eventsRun} events run (replays), ${r.teardowns} teardowns in ${(r.elapsedMs / 1000).toFixed(2)} s = ${perSecond(r.transitions, r.elapsedMs)} transitions/s; its facts over the hand model: ${m.states} states in ${(m.elapsedMs / 1000).toFixed(2)} s`,
      );
    }
  }
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
