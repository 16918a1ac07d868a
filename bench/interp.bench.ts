/**
 * The interpreter's speed: statements per second on a C loop of this project (struct members, a list walk,
 * integer arithmetic), and the v16 column of the matrix (every scenario) with the hand model's
 * remoteproc_tee.ts beside the same column running a TEE driver from C (the fixture driver of the tests; and
 * the posted v16 remoteproc_tee.c when ../shared holds the series), and the column with linux-6.12's STM32
 * driver and ELF loader from C beside it when ../shared holds the tree, over the hand model's core and with
 * the tree's core and virtio from C too (the matrix's default on a tree). Goal (issue 16): within 5x of the
 * hand model.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { loadFixtures } from "../src/emulator/api.ts";
import { interpretedTreeDrivers, loadTreeDrivers } from "../src/interp/env/drivers.ts";
import {
  interpretedTeeDriver,
  type LoadedTeeDriver,
  loadTeeDriver,
} from "../src/interp/env/remoteproc_tee.ts";
import { heapEnvironment } from "../src/interp/heap.ts";
import { instantiate, loadProgram, type Machine } from "../src/interp/index.ts";
import { cParser } from "../src/node/c-parser.ts";
import { loadInput } from "../src/node/inputs.ts";
import { applySeriesToTree } from "../src/node/kernel-tree.ts";
import { type RunOptions, runScenario } from "../src/scenarios/run.ts";
import { SCENARIOS } from "../src/scenarios/scenarios.ts";
import { builtinVersion } from "../src/semantics/versions.ts";
import { newFileContent } from "../src/series/index.ts";
import { loadOrder, runnableFiles } from "../src/tree/index.ts";

const LOOP = `
void *kzalloc(unsigned long size, unsigned int flags);
struct node { struct list_head link; int v; };
static LIST_HEAD(nodes);
long work(int n)
{
	struct node *it;
	long sum = 0;
	int i;

	for (i = 0; i < 64; i++) {
		it = kzalloc(sizeof(*it), 0);
		it->v = i;
		list_add_tail(&it->link, &nodes);
	}
	for (i = 0; i < n; i++) {
		list_for_each_entry(it, &nodes, link) {
			sum += it->v * 3 + (i & 7);
			if (sum > 1000000)
				sum -= 1000000;
		}
	}
	return sum;
}`;

export async function benchInterpreter(): Promise<string[]> {
  const { program } = loadProgram(await cParser(), [{ path: "loop.c", text: LOOP }]);
  const run = (n: number): { ms: number; steps: number } => {
    const m = instantiate(program, heapEnvironment);
    const t = performance.now();
    const r = m.call("work", [
      { k: "int", t: { k: "int", bits: 32, signed: true, rank: 3, name: "int" }, v: BigInt(n) },
    ]);
    if (r.status !== "done") throw new Error(`loop: ${JSON.stringify(r)}`);
    return { ms: performance.now() - t, steps: m.steps };
  };
  run(50);
  const r = run(1000);
  return [
    `interpreter: ${r.steps} statements in ${r.ms.toFixed(0)} ms: ${Math.round((r.steps / r.ms) * 1000)} statements/s`,
  ];
}

async function column(impls: RunOptions | undefined, runs: number): Promise<number> {
  const v = builtinVersion("v16");
  if (v === undefined) throw new Error("no v16");
  const d = { id: "v16", title: v.title, facts: v.facts };
  const fx = await loadFixtures();
  const once = async (): Promise<number> => {
    const t = performance.now();
    for (const s of SCENARIOS) await runScenario(d, s, fx, impls ?? {});
    return performance.now() - t;
  };
  for (let i = 0; i < 3; i++) await once();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await once());
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? 0;
}

async function fromC(name: string, loaded: LoadedTeeDriver, hand: number, runs: number): Promise<string[]> {
  const machines: Machine[] = [];
  const tee = interpretedTeeDriver(loaded, { onMachine: (m) => machines.push(m) });
  const ms = await column({ tee }, runs);
  const perRun = machines.reduce((a, m) => a + m.steps, 0) / (runs + 3);
  return [
    `v16 column (${SCENARIOS.length} scenarios) with ${name} from C, median of ${runs}: ${ms.toFixed(1)} ms (${(ms / hand).toFixed(1)}x the hand model; ${Math.round(perRun)} C statements a column)`,
  ];
}

export async function benchInterpretedColumn(runs = 10): Promise<string[]> {
  const hand = await column(undefined, runs);
  const out = [
    `v16 column (${SCENARIOS.length} scenarios) with the hand model's remoteproc_tee.ts, median of ${runs}: ${hand.toFixed(1)} ms`,
  ];
  const parser = await cParser();
  const fixture = join(import.meta.dirname, "..", "test", "fixtures", "interp", "fixture_tee.c");
  out.push(
    ...(await fromC(
      "the fixture TEE driver",
      loadTeeDriver(parser, { source: { path: "fixture_tee.c", text: readFileSync(fixture, "utf8") } }),
      hand,
      runs,
    )),
  );
  const lkml = join(import.meta.dirname, "..", "..", "shared", "lkml", "v16");
  if (!existsSync(lkml))
    return [...out, `(the posted v16 remoteproc_tee.c is not measured: ${lkml} is absent)`];
  const s = await loadInput(lkml);
  const files = new Map(s.patches.flatMap((p) => p.files).map((f) => [f.path, newFileContent(f)] as const));
  const c = files.get("drivers/remoteproc/remoteproc_tee.c");
  const h = files.get("include/linux/remoteproc_tee.h");
  if (c == null || h == null) return [...out, "(v16 does not create remoteproc_tee.c and its header)"];
  const loaded = loadTeeDriver(parser, {
    headers: [{ path: "include/linux/remoteproc_tee.h", text: h }],
    source: { path: "drivers/remoteproc/remoteproc_tee.c", text: c },
  });
  out.push(...(await fromC("the posted v16 remoteproc_tee.c", loaded, hand, runs)));
  return [...out, ...(await fromTree(s, hand, runs))];
}

/** The v16 column with linux-6.12's stm32_rproc.c and ELF loader (v16 applied) and the TEE driver from C. */
async function fromTree(
  series: Awaited<ReturnType<typeof loadInput>>,
  hand: number,
  runs: number,
): Promise<string[]> {
  const tree = join(import.meta.dirname, "..", "..", "shared", "kernel", "linux-6.12");
  if (!existsSync(tree)) return [`(the tree drivers are not measured: ${tree} is absent)`];
  const report = await applySeriesToTree(series, tree);
  const file = (p: string) => {
    const f = runnableFiles(report).find((x) => x.path === p);
    if (f === undefined) throw new Error(`${p} does not run on ${tree}`);
    return { path: f.path, text: f.text };
  };
  const parser = await cParser();
  const drivers = {
    headers: loadOrder(report).filter((f) => f.path.endsWith(".h")),
    tee: file("drivers/remoteproc/remoteproc_tee.c"),
    stm32: file("drivers/remoteproc/stm32_rproc.c"),
    elf: file("drivers/remoteproc/remoteproc_elf_loader.c"),
  };
  const measure = async (loaded: ReturnType<typeof loadTreeDrivers>) => {
    const machines: Machine[] = [];
    const ms = await column(interpretedTreeDrivers(loaded, { onMachine: (m) => machines.push(m) }), runs);
    return { ms, perRun: machines.reduce((a, m) => a + m.steps, 0) / (runs + 3) };
  };
  const line = (what: string, { ms, perRun }: { ms: number; perRun: number }) =>
    `v16 column (${SCENARIOS.length} scenarios) with ${what} from C, median of ${runs}: ${ms.toFixed(1)} ms (${(ms / hand).toFixed(1)}x the hand model; ${Math.round(perRun)} C statements a column)`;
  const drv = await measure(loadTreeDrivers(parser, drivers));
  // The matrix's default on a tree: the core and its virtio transport from C too.
  const core = await measure(
    loadTreeDrivers(parser, {
      ...drivers,
      core: file("drivers/remoteproc/remoteproc_core.c"),
      virtio: file("drivers/remoteproc/remoteproc_virtio.c"),
    }),
  );
  return [
    line(
      "linux-6.12's stm32_rproc.c and remoteproc_elf_loader.c (v16 applied) and the posted remoteproc_tee.c, over the hand model's core,",
      drv,
    ),
    line(
      "linux-6.12's remoteproc_core.c, remoteproc_virtio.c, stm32_rproc.c and remoteproc_elf_loader.c (v16 applied) and the posted remoteproc_tee.c",
      core,
    ),
  ];
}
