/**
 * Interleaving search throughput: the fixture glue driver (test/fixtures/fxsched) on kernel threads, explored
 * to depths 4, 5 and 6 with the sleep-set reduction (scheduling steps and distinct configurations per second,
 * time per depth, in CPU time of this thread as the machine is shared), and the reduction's saving against
 * the full search at depth 5. Then the built-in designs' real code (benchKernelInterleave): linux-6.12's
 * drivers from C, as they are (mainline) and with each posted series applied (its TEE driver from C too), on
 * the hand model's kernel threads, every interleaving scenario to depth 6 (goal: each design in 10 s); and the
 * hand model's own interleavings of every built-in design, which need no tree.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Fixtures } from "../src/emulator/api.ts";
import { loadFixtures } from "../src/emulator/fixtures.ts";
import {
  DEFAULT_WORLD,
  exploreInterleavings,
  loadThreadedDriver,
  type ThreadWorld,
} from "../src/explore/interleave.ts";
import { exploreKernelInterleavings, KERNEL_SCENARIOS } from "../src/explore/kernel-interleave.ts";
import { cParser } from "../src/node/c-parser.ts";
import { builtinInterleaveDesign, kernelTreeInterleaveDesign } from "../src/node/kernel-interleave-input.ts";
import type { Design } from "../src/scenarios/run.ts";
import { BUILTIN_VERSIONS } from "../src/semantics/versions.ts";
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

const SHARED = fileURLToPath(new URL("../../shared/", import.meta.url));

/** CPU milliseconds (user + system) an asynchronous `f` takes in this process. */
async function cpuAsync<T>(f: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const before = process.cpuUsage();
  const value = await f();
  const d = process.cpuUsage(before);
  return { value, ms: (d.user + d.system) / 1000 };
}

/** One design's interleaving scenarios to `depth`: a line each, and the total against the goal. */
async function kernelDesignLines(
  name: string,
  design: Design,
  fixtures: Fixtures,
  depth: number,
): Promise<string[]> {
  const lines: string[] = [];
  let total = 0;
  let wall = 0;
  for (const s of KERNEL_SCENARIOS) {
    const { value: r, ms } = await cpuAsync(() => exploreKernelInterleavings(design, s, fixtures, { depth }));
    total += ms;
    wall += r.elapsedMs;
    const per = r.perDepth.map((p) => `${p.depth}:${(p.elapsedMs / 1000).toFixed(2)}s`).join(" ");
    lines.push(
      `${name}, ${s.id}, depth ${depth} (${r.reduction}, ${r.pruned} pruned): ${r.nodes} schedules, ${r.executions} executions, ${r.transitions} scheduling steps, ${r.states} configurations, ${r.findings.length} findings${r.unknown === null ? "" : ", UNKNOWN past a schedule"} in ${(ms / 1000).toFixed(2)} s CPU (${(r.elapsedMs / 1000).toFixed(2)} s wall) = ${perSecond(r.transitions, ms)} transitions/s, ${perSecond(r.states, ms)} states/s, ${(ms / Math.max(r.executions, 1)).toFixed(1)} ms an execution; cumulative wall time per depth ${per}`,
    );
  }
  lines.push(
    `${name}, every interleaving scenario to depth ${depth}: ${(total / 1000).toFixed(2)} s CPU (${(wall / 1000).toFixed(2)} s wall; goal <= 10 s: ${wall <= 10_000 ? "met" : "NOT met"})`,
  );
  return lines;
}

export async function benchKernelInterleave(depth = 6): Promise<string[]> {
  const fixtures = await loadFixtures();
  const lines: string[] = [];
  // The hand model's interleavings of every built-in design (no kernel tree needed).
  for (const v of BUILTIN_VERSIONS) {
    const design = builtinInterleaveDesign(v.id);
    if (design !== null)
      lines.push(...(await kernelDesignLines(`${v.id} (hand model)`, design, fixtures, depth)));
  }
  const tree = join(SHARED, "kernel", "linux-6.12");
  if (!existsSync(tree)) return [...lines, `C on a kernel tree: skipped, ${tree} is absent`];
  const specs = ["mainline", ...["v13", "v14", "v15", "v16"].map((v) => join(SHARED, "lkml", v))];
  for (const spec of specs) {
    const name = spec === "mainline" ? "mainline" : spec.slice(spec.lastIndexOf("/") + 1);
    // The drivers from C over the hand model's core ($RPROC_REVIEW_MODEL_CORE), then (a series) the core
    // from C too, as explore --interleave --kernel-tree runs it by default.
    for (const modelCore of spec === "mainline" ? [true] : [true, false]) {
      let design: Design;
      if (modelCore) process.env.RPROC_REVIEW_MODEL_CORE = "1";
      try {
        design = await kernelTreeInterleaveDesign(spec, tree);
      } catch (e) {
        lines.push(`${name} on linux-6.12: not run: ${e instanceof Error ? e.message : String(e)}`);
        break;
      } finally {
        if (modelCore) delete process.env.RPROC_REVIEW_MODEL_CORE;
      }
      const what = design.stm32?.core === undefined ? "from C" : "from C, the core too";
      lines.push(...(await kernelDesignLines(`${name} on linux-6.12 ${what}`, design, fixtures, depth)));
    }
  }
  return lines;
}
