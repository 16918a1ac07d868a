/**
 * The CLI as a user meets it: how fast `rproc-review --help` starts, and how long a review of a new series
 * takes, in process (the library calls `review` makes) and as a CLI process. The series is one of the real
 * mail sets (../shared/lkml/<id>, default v16; RPROC_BENCH_SERIES picks another), reviewed as `review` does
 * with `--format markdown --explore-depth 0 --interleave-depth 0`: read and map the mails, run the matrix for it,
 * for the version it follows and for mainline, compare, render the report. Then the review as it runs by default
 * (the event exploration to depth 2, REVIEW_EXPLORE_DEPTH_C: the series' side runs its TEE driver from C, and the
 * interleaving scenarios to REVIEW_INTERLEAVE_DEPTH on both sides and
 * mainline), goal <= 2 s as a process, and the same with --interleave-depth 0, for what the interleavings cost. The processes run the build (`bin/rproc-review.js`
 * runs dist/; `npm run bench` builds it first). Goals: --help <= 200 ms; the review <= 300 ms in process and
 * <= 1 s as a process. Goals are wall times; each line also gives CPU time (user + system of every thread, V8's
 * garbage collection helpers included) and the load average, since on a shared machine the wall time swings
 * with the load.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const BIN = join(root, "bin", "rproc-review.js");
const BUILT = join(root, "dist", "cli", "run.js");
const SERIES = process.env.RPROC_BENCH_SERIES ?? "v16";
const MAILS = join(root, "..", "shared", "lkml", SERIES);

const ms = (x: number): string => `${Math.round(x)} ms`;
const CPU_AT_EXIT = join(root, "bench", "cpu-at-exit.cjs");
const load = (): string => `load average ${(loadavg()[0] ?? 0).toFixed(1)}`;

function stats(times: number[]): { median: number; min: number; max: number } {
  const t = [...times].sort((a, b) => a - b);
  return { median: t[Math.floor(t.length / 2)] ?? 0, min: t[0] ?? 0, max: t[t.length - 1] ?? 0 };
}

/** Wall time of `node <args>`, which must exit 0, and the CPU time the process reported at exit. */
function timeProcess(args: string[]): { wall: number; cpu: number } {
  const start = performance.now();
  const r = spawnSync(process.execPath, ["--require", CPU_AT_EXIT, ...args], { cwd: root, encoding: "utf8" });
  const elapsed = performance.now() - start;
  if (r.status !== 0) throw new Error(`node ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  const cpu = /rproc-bench-cpu-us (\d+)/.exec(r.stderr);
  return { wall: elapsed, cpu: cpu ? Number(cpu[1]) / 1000 : Number.NaN };
}

/** Medians of n timed processes after `warmup` untimed ones: wall and CPU, and the wall's spread. */
function runs(
  n: number,
  warmup: number,
  f: () => { wall: number; cpu: number },
): { median: number; min: number; max: number; cpu: number } {
  for (let i = 0; i < warmup; i++) f();
  const all = Array.from({ length: n }, f);
  return { ...stats(all.map((x) => x.wall)), cpu: stats(all.map((x) => x.cpu)).median };
}

/** The newest modification time under `dir` (its .ts files). */
function newest(dir: string): number {
  let t = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    t = Math.max(t, s.isDirectory() ? newest(p) : name.endsWith(".ts") ? s.mtimeMs : 0);
  }
  return t;
}

/** Why the build cannot be measured (missing or older than the sources), or null. */
function buildProblem(): string | null {
  const built = statSync(BUILT, { throwIfNoEntry: false });
  if (built === undefined) return "dist/ is missing (npm run build)";
  if (built.mtimeMs < newest(join(root, "src"))) return "dist/ is older than src/ (npm run build)";
  return null;
}

/** Startup first, on a machine not yet warmed by the review runs. */
export async function benchCli(): Promise<string[]> {
  return [...startup(), ...(await reviewLatency())];
}

function startup(): string[] {
  const problem = buildProblem();
  if (problem !== null) return [`--help: not measured: ${problem}`];
  const before = load();
  const node = runs(10, 2, () => timeProcess(["-e", "0"]));
  const help = runs(20, 3, () => timeProcess([BIN, "--help"]));
  return [
    `--help as a CLI process (built), median of 20: ${ms(help.median)} (min ${ms(help.min)}, max ${ms(help.max)}; goal <= 200 ms; CPU ${ms(help.cpu)}; node -e 0 alone: ${ms(node.median)}, CPU ${ms(node.cpu)}; ${before})`,
  ];
}

async function reviewLatency(): Promise<string[]> {
  if (statSync(MAILS, { throwIfNoEntry: false }) === undefined)
    return [`review latency: not measured: ${MAILS} is missing (the real mail sets are ../shared/lkml/<id>)`];
  const lines: string[] = [];
  // In process: the library calls `review <dir> --format markdown --explore-depth 0 --interleave-depth 0` makes (src/cli/commands/
  // review.ts, with no --history or --store: compared with the built-in version it follows).
  const { loadInput } = await import("../src/node/inputs.ts");
  const { builtinManifests, mappedSubject, resolveVersion } = await import("../src/node/versions.ts");
  const { defaultComparisonWhy } = await import("../src/compare/against.ts");
  const { runReview } = await import("../src/review/run.ts");
  const { renderReview } = await import("../src/report/index.ts");
  let against = "";
  const reviewOnce = async (): Promise<number> => {
    const start = performance.now();
    const series = await loadInput(MAILS);
    const d = defaultComparisonWhy(series, await builtinManifests());
    const a = await resolveVersion(d.id);
    const b = await mappedSubject(series, MAILS);
    const { report } = await runReview(a, b, { exploreDepth: 0, interleaveDepth: 0, comparisonWhy: d.why });
    const text = renderReview(report, "markdown");
    if (text.length === 0) throw new Error("empty report");
    against = report.a.id;
    return performance.now() - start;
  };
  const before = load();
  const first = await reviewOnce();
  const warm: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < 10; i++) warm.push(await reviewOnce());
  const used = process.cpuUsage(cpu0);
  const w = stats(warm);
  const mails = readdirSync(MAILS).length;
  lines.push(
    `review of a new series (${SERIES}, ${mails} real mails, against ${against}: read, map, 3 matrices, compare, markdown; --explore-depth 0 --interleave-depth 0) in process: median of 10 ${ms(w.median)} (min ${ms(w.min)}, max ${ms(w.max)}; goal <= 300 ms; CPU ${ms((used.user + used.system) / 1000 / 10)} a review); the first in the process ${ms(first)} (modules, C parser and JIT cold; ${before})`,
  );
  const problem = buildProblem();
  if (problem !== null) {
    lines.push(`review as a CLI process: not measured: ${problem}`);
    return lines;
  }
  const dir = mkdtempSync(join(tmpdir(), "rproc-bench-review-"));
  try {
    const args = [
      BIN,
      "review",
      MAILS,
      "--format",
      "markdown",
      "--explore-depth",
      "0",
      "--interleave-depth",
      "0",
      "--out",
      join(dir, "r.md"),
    ];
    const before = load();
    const cli = runs(5, 1, () => timeProcess(args));
    lines.push(
      `review of a new series (${SERIES}) as a CLI process (rproc-review review ../shared/lkml/${SERIES} --format markdown --explore-depth 0 --interleave-depth 0, built), median of 5: ${ms(cli.median)} (min ${ms(cli.min)}, max ${ms(cli.max)}; goal <= 1000 ms; CPU ${ms(cli.cpu)}; ${before})`,
    );
    // The review as it runs by default, and without the interleavings: what they cost.
    const { REVIEW_EXPLORE_DEPTH_C, REVIEW_INTERLEAVE_DEPTH } = await import("../src/review/depth.ts");
    const plain = [BIN, "review", MAILS, "--format", "markdown", "--out", join(dir, "d.md")];
    const loadBefore = load();
    const full = runs(5, 1, () => timeProcess(plain));
    const noInterleave = runs(5, 0, () => timeProcess([...plain, "--interleave-depth", "0"]));
    lines.push(
      `review of a new series (${SERIES}) as a CLI process with the default depths (rproc-review review ../shared/lkml/${SERIES} --format markdown: explore depth ${REVIEW_EXPLORE_DEPTH_C}, the series' side on its C, interleavings depth ${REVIEW_INTERLEAVE_DEPTH}, built), median of 5: ${ms(full.median)} (min ${ms(full.min)}, max ${ms(full.max)}; goal <= 2000 ms; CPU ${ms(full.cpu)}; ${loadBefore}); with --interleave-depth 0: ${ms(noInterleave.median)} (CPU ${ms(noInterleave.cpu)}): the interleavings cost ${ms(full.median - noInterleave.median)} wall, ${ms(full.cpu - noInterleave.cpu)} CPU`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return lines;
}
