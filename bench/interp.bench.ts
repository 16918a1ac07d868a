/**
 * The interpreter's speed: statements per second on a C loop of this project (struct members, a list walk,
 * integer arithmetic), and the v16 column of the matrix (every scenario) with the hand model's
 * remoteproc_tee.ts beside the same column running a TEE driver from C (the fixture driver of the tests; and
 * the posted v16 remoteproc_tee.c when ../shared holds the series), and the column with linux-6.12's STM32
 * driver and ELF loader from C beside it when ../shared holds the tree, over the hand model's core and with
 * the tree's core and virtio from C too (the matrix's default on a tree); and the full matrix of the postings
 * from C on the tree beside their hand-model columns (`benchFullMatrix`). Goal (issue 16): within 5x of the
 * hand model, each configuration measured as warm as the others (`columns`).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { loadFixtures } from "../src/emulator/api.ts";
import { interpretedTreeDrivers, loadTreeDrivers } from "../src/interp/env/drivers.ts";
import { interpretedTeeDriver, loadTeeDriver } from "../src/interp/env/remoteproc_tee.ts";
import { heapEnvironment } from "../src/interp/heap.ts";
import { instantiate, loadProgram, type Machine } from "../src/interp/index.ts";
import { cParser } from "../src/node/c-parser.ts";
import { loadInput } from "../src/node/inputs.ts";
import { applySeriesToTree } from "../src/node/kernel-tree.ts";
import { resolveVersion } from "../src/node/versions.ts";
import { describeRan } from "../src/scenarios/result.ts";
import { type Design, type RunOptions, runMatrix, runScenario } from "../src/scenarios/run.ts";
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

/**
 * The statements the machines of a column ran, counted after each column and the machines let go: a column
 * keeps none of its machines, so neither does the benchmark (kept, they were garbage every later collection
 * traced).
 */
function stepCounter(): { onMachine: (m: Machine) => void; drain: () => void; steps: () => number } {
  const machines: Machine[] = [];
  let steps = 0;
  return {
    onMachine: (m) => machines.push(m),
    drain: () => {
      for (const m of machines) steps += m.steps;
      machines.length = 0;
    },
    steps: () => steps,
  };
}

/** One way to run the column: its implementations and the statements its machines ran. */
interface Config {
  readonly what: string;
  readonly impls: RunOptions;
  readonly counter: ReturnType<typeof stepCounter> | null;
}

const WARM_ROUNDS = 8;

/**
 * The median time of each of `runners`, measured in rounds that run every one of them once, after `warm`
 * such rounds (`after(j)` runs outside the time, after each run of runner j): each is measured as warm as
 * the others and under the same load (the hand model measured first, on a JIT that had run little, was
 * slower than it is, and flattered every ratio to it).
 */
async function interleaved(
  runners: readonly (() => Promise<unknown>)[],
  warm: number,
  runs: number,
  after: (j: number) => void = () => {},
): Promise<number[]> {
  const once = async (j: number): Promise<number> => {
    const t = performance.now();
    await runners[j]?.();
    const ms = performance.now() - t;
    after(j);
    return ms;
  };
  for (let i = 0; i < warm; i++) for (const j of runners.keys()) await once(j);
  const times = runners.map(() => [] as number[]);
  for (let i = 0; i < runs; i++) for (const j of runners.keys()) times[j]?.push(await once(j));
  return times.map((t) => {
    t.sort((a, b) => a - b);
    return t[Math.floor(t.length / 2)] ?? 0;
  });
}

/** The median v16 column time of each configuration (`interleaved`, WARM_ROUNDS warm rounds). */
async function columns(configs: readonly Config[], runs: number): Promise<number[]> {
  const v = builtinVersion("v16");
  if (v === undefined) throw new Error("no v16");
  const d = { id: "v16", title: v.title, facts: v.facts };
  const fx = await loadFixtures();
  const column = (c: Config) => async (): Promise<void> => {
    for (const s of SCENARIOS) await runScenario(d, s, fx, c.impls);
  };
  // A column's machines are let go after it, outside its time (stepCounter).
  return interleaved(configs.map(column), WARM_ROUNDS, runs, (j) => configs[j]?.counter?.drain());
}

function fromC(what: string, make: (hooks: { onMachine: (m: Machine) => void }) => RunOptions): Config {
  const counter = stepCounter();
  return { what, impls: make({ onMachine: counter.onMachine }), counter };
}

export async function benchInterpretedColumn(runs = 10): Promise<string[]> {
  const parser = await cParser();
  const configs: Config[] = [{ what: "the hand model's remoteproc_tee.ts", impls: {}, counter: null }];
  const notes: string[] = [];
  const fixture = join(import.meta.dirname, "..", "test", "fixtures", "interp", "fixture_tee.c");
  const fixtureTee = loadTeeDriver(parser, {
    source: { path: "fixture_tee.c", text: readFileSync(fixture, "utf8") },
  });
  configs.push(fromC("the fixture TEE driver", (h) => ({ tee: interpretedTeeDriver(fixtureTee, h) })));
  const lkml = join(import.meta.dirname, "..", "..", "shared", "lkml", "v16");
  if (!existsSync(lkml)) notes.push(`(the posted v16 remoteproc_tee.c is not measured: ${lkml} is absent)`);
  else {
    const s = await loadInput(lkml);
    const files = new Map(s.patches.flatMap((p) => p.files).map((f) => [f.path, newFileContent(f)] as const));
    const c = files.get("drivers/remoteproc/remoteproc_tee.c");
    const h = files.get("include/linux/remoteproc_tee.h");
    if (c == null || h == null) notes.push("(v16 does not create remoteproc_tee.c and its header)");
    else {
      const posted = loadTeeDriver(parser, {
        headers: [{ path: "include/linux/remoteproc_tee.h", text: h }],
        source: { path: "drivers/remoteproc/remoteproc_tee.c", text: c },
      });
      configs.push(
        fromC("the posted v16 remoteproc_tee.c", (hk) => ({ tee: interpretedTeeDriver(posted, hk) })),
      );
      const tree = join(import.meta.dirname, "..", "..", "shared", "kernel", "linux-6.12");
      if (!existsSync(tree)) notes.push(`(the tree drivers are not measured: ${tree} is absent)`);
      else configs.push(...(await fromTree(s, tree)));
    }
  }
  const ms = await columns(configs, runs);
  const hand = ms[0] ?? 0;
  return [
    ...configs.map((c, i) => {
      const t = ms[i] ?? 0;
      const head = `v16 column (${SCENARIOS.length} scenarios) with ${c.what}${c.counter === null ? "" : " from C"}, median of ${runs} (${WARM_ROUNDS} warm rounds, every configuration in each round): ${t.toFixed(1)} ms`;
      if (c.counter === null) return head;
      const perRun = c.counter.steps() / (runs + WARM_ROUNDS);
      return `${head} (${(t / hand).toFixed(1)}x the hand model; ${Math.round(perRun)} C statements a column)`;
    }),
    ...notes,
  ];
}

/** The v16 column with linux-6.12's stm32_rproc.c and ELF loader (v16 applied) and the TEE driver from C. */
async function fromTree(series: Awaited<ReturnType<typeof loadInput>>, tree: string): Promise<Config[]> {
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
  const drv = loadTreeDrivers(parser, drivers);
  // The matrix's default on a tree: the core and its virtio transport from C too.
  const core = loadTreeDrivers(parser, {
    ...drivers,
    core: file("drivers/remoteproc/remoteproc_core.c"),
    virtio: file("drivers/remoteproc/remoteproc_virtio.c"),
  });
  return [
    fromC(
      "linux-6.12's stm32_rproc.c and remoteproc_elf_loader.c (v16 applied) and the posted remoteproc_tee.c, over the hand model's core,",
      (h) => interpretedTreeDrivers(drv, h),
    ),
    fromC(
      "linux-6.12's remoteproc_core.c, remoteproc_virtio.c, stm32_rproc.c and remoteproc_elf_loader.c (v16 applied) and the posted remoteproc_tee.c",
      (h) => interpretedTreeDrivers(core, h),
    ),
  ];
}

/**
 * The full matrix of the series' postings (every scenario, every version ../shared/lkml holds) run from C on
 * linux-6.12 (each version's files from C where its patches apply, the rest from the model, as `matrix
 * --versions <mails> --kernel-tree` runs them) beside the same versions' hand-model columns, measured as
 * `columns` does: warm, in interleaved rounds.
 */
export async function benchFullMatrix(runs = 5): Promise<string[]> {
  const shared = join(import.meta.dirname, "..", "..", "shared");
  const tree = join(shared, "kernel", "linux-6.12");
  const lkml = join(shared, "lkml");
  if (!existsSync(tree) || !existsSync(lkml))
    return [`(the full matrix from C is not measured: ${shared} lacks the tree or the mails)`];
  // The postings whose mails ../shared holds and that have a hand-model column to stand beside.
  const ids = readdirSync(lkml)
    .filter((id) => builtinVersion(id) !== undefined)
    .sort();
  const fromC: Design[] = [];
  const hand: Design[] = [];
  for (const id of ids) {
    fromC.push((await resolveVersion(join(lkml, id), undefined, {}, { kernelTree: tree })).design);
    hand.push((await resolveVersion(id)).design);
  }
  const [h = 0, c = 0] = await interleaved([() => runMatrix(hand), () => runMatrix(fromC)], 3, runs);
  return [
    `full matrix (${ids.join(", ")}; ${SCENARIOS.length} scenarios) with the hand model, median of ${runs} (3 warm rounds, interleaved): ${h.toFixed(0)} ms`,
    `full matrix from C on linux-6.12, median of ${runs}: ${c.toFixed(0)} ms (${(c / h).toFixed(1)}x the hand model; goal 5x); what ran: ${ranSummary(fromC)}`,
  ];
}

/** What ran in each design, versions that ran the same way said once. */
function ranSummary(designs: readonly Design[]): string {
  const byWhat = new Map<string, string[]>();
  for (const d of designs) {
    const what = d.ran?.some((r) => r.from === "C") ? describeRan(d.ran) : "every file from the model";
    byWhat.set(what, [...(byWhat.get(what) ?? []), d.id]);
  }
  return [...byWhat].map(([what, ids]) => `${ids.join(", ")}: ${what}`).join("; ");
}
