/**
 * Interleaving search throughput: the fixture glue driver (test/fixtures/fxsched) on kernel threads, explored
 * to depths 4, 5 and 6 with the sleep-set reduction (scheduling steps and distinct configurations per second,
 * time per depth, in CPU time of this thread as the machine is shared), and the reduction's saving against
 * the full search at depth 5.
 */
import {
  DEFAULT_WORLD,
  exploreInterleavings,
  loadThreadedDriver,
  type ThreadWorld,
} from "../src/explore/interleave.ts";
import { cParser } from "../src/node/c-parser.ts";
import { FX_RPROC_PATH, type FxSchedVersion, fxRprocDriver } from "../test/fixtures/fxsched/fxsched.ts";

const perSecond = (n: number, ms: number): number => Math.round((n * 1000) / Math.max(ms, 1e-6));

/** CPU milliseconds (user + system) `f` takes in this process. */
function cpu<T>(f: () => T): { value: T; ms: number } {
  const before = process.cpuUsage();
  const value = f();
  const d = process.cpuUsage(before);
  return { value, ms: (d.user + d.system) / 1000 };
}

export async function benchInterleave(): Promise<string[]> {
  const parser = await cParser();
  const cases: { version: FxSchedVersion; world: ThreadWorld; what: string }[] = [
    {
      version: 1,
      world: { ...DEFAULT_WORLD, unbind: true, writers: ["stop"] },
      what: "v1, auto-boot + unbind + sysfs stop",
    },
    {
      version: 3,
      world: { ...DEFAULT_WORLD, unbind: true, writers: ["start"] },
      what: "v3, auto-boot + unbind + sysfs start",
    },
  ];
  const lines: string[] = [];
  for (const c of cases) {
    const d = loadThreadedDriver(parser, { source: { path: FX_RPROC_PATH, text: fxRprocDriver(c.version) } });
    exploreInterleavings(d, c.world, { depth: 3 }); // warm-up
    for (const depth of [4, 5, 6]) {
      const { value: r, ms } = cpu(() => exploreInterleavings(d, c.world, { depth }));
      const per = r.perDepth.map((p) => `${p.depth}:${(p.elapsedMs / 1000).toFixed(2)}s`).join(" ");
      lines.push(
        `fxsched ${c.what}, depth ${depth}: ${r.nodes} schedules, ${r.executions} executions, ${r.transitions} scheduling steps, ${r.states} configurations, ${r.findings.length} findings in ${(ms / 1000).toFixed(2)} s CPU (${(r.elapsedMs / 1000).toFixed(2)} s wall) = ${perSecond(r.transitions, ms)} transitions/s, ${perSecond(r.states, ms)} states/s; cumulative wall time per depth ${per}`,
      );
    }
    const reduced = exploreInterleavings(d, c.world, { depth: 5 });
    const { value: full, ms } = cpu(() => exploreInterleavings(d, c.world, { depth: 5, reduce: false }));
    lines.push(
      `fxsched ${c.what}, depth 5, reduction: sleep sets ran ${reduced.executions} executions (${reduced.pruned} children pruned) against ${full.executions} for the full search (${(ms / 1000).toFixed(2)} s CPU): saves ${Math.round((100 * (full.executions - reduced.executions)) / Math.max(full.executions, 1))}% of the executions, same ${full.findings.length} findings`,
    );
  }
  return lines;
}
