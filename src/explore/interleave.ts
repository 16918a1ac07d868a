/**
 * Interleavings: the posted driver's C runs on kernel threads of the threaded environment
 * (src/interp/env/threads.ts) and the search chooses which thread runs at every scheduling point.
 *
 * A schedule is the list of threads chosen at the first scheduling points ("t1,t2,t2"); after it the
 * default policy runs the lowest-numbered runnable thread, so every schedule names one whole execution and a
 * finding's schedule is the shortest prefix that makes the default reach it. The search is breadth-first
 * over schedules up to `depth` choices (src/explore/schedules.ts, shared with the matrix world's search),
 * re-running each from a fresh machine (executions are deterministic; generators cannot be copied), so the
 * first schedule that raises a finding is a shortest one.
 *
 * Reduction: sleep sets (src/explore/schedules.ts) over each step's footprint, what it read and wrote
 * (objects of the interpreter's memory, locks, threads created, the environment's bookkeeping). The one
 * assumption: addresses are abstract (two allocations in either order are the same state up to renaming),
 * which `--audit` checks with the full search on small depths.
 */
import type { Parser } from "web-tree-sitter";
import { UsageError } from "../errors.ts";
import type { Program } from "../interp/ast.ts";
import {
  type Footprint,
  ThreadedKernel,
  type ThreadFinding,
  type ThreadTraceStep,
  type ThreadWorld,
} from "../interp/env/threads.ts";
import { THREAD_HEADERS } from "../interp/env/threads_headers.ts";
import { instantiate, type KConfig, loadProgram } from "../interp/index.ts";
import type { Machine, Thread } from "../interp/interp.ts";
import type { LowerProblem, SourceFile } from "../interp/lower.ts";
import { PRELUDE_PATH } from "../interp/prelude.ts";
import { T } from "../interp/types.ts";
import { formatSchedule, type SearchFigures, type SearchOptions, searchSync } from "./schedules.ts";

export type { ThreadFinding, ThreadTraceStep, ThreadWorld };
export { formatSchedule };

/** A driver loaded for the threaded environment. */
export interface ThreadedDriver {
  readonly program: Program;
  /** The driver's .c file. */
  readonly file: string;
  readonly problems: readonly LowerProblem[];
}

/** Lowers a platform driver (its .c and the headers its series creates) over the threaded environment's headers. */
export function loadThreadedDriver(
  parser: Parser,
  src: { source: SourceFile; headers?: readonly SourceFile[]; config?: KConfig },
): ThreadedDriver {
  const file = src.source.path;
  const mod = file.slice(file.lastIndexOf("/") + 1).replace(/\.c$/, "");
  const { program, problems } = loadProgram(parser, [...(src.headers ?? []), src.source], {
    envHeaders: THREAD_HEADERS,
    config: src.config ?? {},
    defines: { KBUILD_MODNAME: JSON.stringify(mod) },
  });
  return { program, file, problems };
}

/** The default world: the device has st,auto-boot and its firmware file; nobody writes sysfs or unbinds. */
export const DEFAULT_WORLD: ThreadWorld = {
  device: "m4",
  dtProps: ["st,auto-boot"],
  firmware: { "rproc-fw": new Uint8Array(64) },
  writers: [],
  unbind: false,
};

/** One scheduling step of an execution. */
export interface StepRecord {
  thread: number;
  /** Runnable threads before the step, ascending. */
  enabled: number[];
  /** More than one thread could run: the step consumed a schedule entry (or the default chose). */
  choice: boolean;
  /** The configuration before the step (threads' positions and lock owners). */
  config: string;
  footprint: Footprint;
}

export interface Execution {
  /** The schedule applied at the choice points (then the default policy). */
  schedule: number[];
  /** The index of a schedule entry naming a thread that could not run there, or null. */
  invalidAt: number | null;
  steps: StepRecord[];
  /** The step index of each choice point, in order. */
  choices: number[];
  /** The configuration at the end of the schedule (its next choice point, or the end). */
  configAfter: string;
  /** The configuration at the end of the execution. */
  configEnd: string;
  findings: ThreadFinding[];
  trace: ThreadTraceStep[];
  threads: { id: number; name: string }[];
  /** How every thread ended (and which stayed blocked): what the audit compares. */
  outcome: string;
  /** Something the interpreter could not run (the execution is not a verdict past it), or null. */
  unknown: string | null;
  /** C statements the machine executed. */
  statements: number;
}

export interface RunOptions {
  /** Scheduling steps an execution may take before it is unknown (a livelock). Default 2000. */
  maxSched?: number;
  /** Statements the machine may execute. Default 2,000,000. */
  maxSteps?: number;
}

/** Parses "t1,t2,3" into thread ids (UsageError naming the bad entry). */
export function parseSchedule(text: string): number[] {
  const out: number[] = [];
  for (const raw of text.split(",")) {
    const x = raw.trim();
    if (x === "") continue;
    const m = /^t?(\d+)$/.exec(x);
    if (m === null)
      throw new UsageError(`bad schedule entry "${x}" (expected t<id>, e.g. t1,t2,t2)`, {
        subject: "--schedule",
      });
    out.push(Number(m[1]));
  }
  return out;
}

function config(m: Machine, locks: string): string {
  const parts: string[] = [];
  for (const t of m.threads) {
    if (t.done) parts.push(`${t.id}:${t.result?.status}`);
    else {
      const frames = t.exec.frames.map((f) => `${f.name}@${f.line}`).join(">");
      parts.push(`${t.id}:${t.exec.started ? frames : "new"}:${t.waiting?.reason ?? ""}`);
    }
  }
  return `${parts.join("|")}#${locks}`;
}

/** The module's load: a thread running its module_init, or registering the driver of module_*_driver. */
function spawnModuleLoad(m: Machine, file: string): Thread {
  const readPtr = (name: string) => {
    const g = m.global(name, file);
    if (g === undefined) return null;
    const b = m.read({ k: "ptr", t: { k: "ptr", to: T.void }, addr: g.obj.base, obj: g.obj }, 8);
    const addr = new DataView(b.buffer, b.byteOffset).getBigUint64(0, true);
    return { k: "ptr", t: { k: "ptr", to: T.void }, addr, obj: m.find(addr) } as const;
  };
  const init = readPtr("__interp_module_init");
  if (init !== null) return m.spawnPointer("insmod", init, []);
  const drv = m.program.globals.find((g) => g.name.startsWith("__interp_module_driver_") && g.file === file);
  if (drv === undefined)
    throw new UsageError(`${file} registers nothing at module load (no module_init, no module_*_driver)`);
  const register = drv.name.slice("__interp_module_driver_".length);
  const p = readPtr(drv.name);
  if (p === null) throw new Error(`${drv.name} is not allocated`);
  return m.spawn("insmod", register, [p]);
}

/**
 * Runs one execution. At a scheduling point where one thread only can run, it runs; where several can (a
 * choice point) the next entry of `schedule` chooses, and past its end the lowest-numbered runnable thread.
 */
export function runSchedule(
  driver: ThreadedDriver,
  world: ThreadWorld,
  schedule: readonly number[],
  opts: RunOptions = {},
): Execution {
  const env = new ThreadedKernel(world);
  const m = instantiate(driver.program, env, { maxSteps: opts.maxSteps ?? 2_000_000 });
  env.attach(m);
  const preludeFns = new Set(
    Object.values(driver.program.functions)
      .filter((f) => f.file === PRELUDE_PATH)
      .map((f) => f.name),
  );
  m.subscribeTo(["call", "return"], (e) => {
    if (e.type === "call" && !preludeFns.has(e.fn))
      env.trace.push({
        sched: env.sched,
        thread: e.thread,
        fn: e.fn,
        event: "call",
        detail: `${e.site.file}:${e.site.line}`,
      });
    else if (e.type === "return" && !preludeFns.has(e.fn) && e.value.k === "int")
      env.trace.push({
        sched: env.sched,
        thread: e.thread,
        fn: e.fn,
        event: "return",
        detail: String(e.value.v),
      });
  });
  const locks = (): string => env.lockOwners();
  let unknown: string | null = null;
  spawnModuleLoad(m, driver.file);
  const maxSched = opts.maxSched ?? 2000;
  const steps: StepRecord[] = [];
  const choices: number[] = [];
  let invalidAt: number | null = null;
  let configAfter: string | null = null;
  for (let i = 0; ; i++) {
    const runnable = m.threads.filter((t) => t.runnable);
    const ids = runnable.map((t) => t.id);
    const conf = config(m, locks());
    const choice = runnable.length > 1;
    if (configAfter === null && (runnable.length === 0 || (choice && choices.length === schedule.length)))
      configAfter = conf;
    if (runnable.length === 0) break;
    if (i >= maxSched) {
      unknown = `the execution did not end within ${maxSched} scheduling steps`;
      break;
    }
    let th: Thread | undefined = runnable[0] as Thread;
    if (choice) {
      const c = choices.length;
      choices.push(i);
      if (c < schedule.length) {
        th = runnable.find((t) => t.id === schedule[c]);
        if (th === undefined) {
          invalidAt = c;
          break;
        }
      }
    }
    env.footprint = new Map();
    env.sched = i;
    env.trace.push({
      sched: i,
      thread: th.id,
      fn: th.exec.innermost()?.name ?? th.name,
      event: "run",
      detail: th.name,
    });
    m.step(th);
    if (th.done) {
      env.footprint.set(`t${th.id}`, true);
      const r = th.result;
      if (r?.status === "fault") {
        const nullOp = env.findings.some(
          (f) => f.kind === "null-op-call" && f.thread.startsWith(`t${th.id} `),
        );
        if (!nullOp) pushFinding(env, th, "fault", `${r.kind}: ${r.detail} at ${r.site.file}:${r.site.line}`);
      } else if (r?.status === "unknown") {
        unknown ??= `${r.what} at ${r.site.file}:${r.site.line}`;
        pushFinding(env, th, "unknown", `${r.what} at ${r.site.file}:${r.site.line}`);
      }
    }
    steps.push({ thread: th.id, enabled: ids, choice, config: conf, footprint: env.footprint });
  }
  const blocked = m.threads.filter((t) => !t.done);
  // A thread that oopsed may leave its locks held: what waits behind it is the oops's consequence, not a deadlock.
  const oopsed = m.threads.filter((t) => t.result?.status === "fault");
  if (blocked.length > 0 && oopsed.length > 0)
    env.trace.push({
      sched: steps.length,
      thread: 0,
      fn: "scheduler",
      event: "blocked",
      detail: `${blocked.map((t) => `t${t.id} ${t.name}: ${t.waiting?.reason ?? "?"}`).join("; ")} (after the oops of ${oopsed.map((t) => `t${t.id}`).join(", ")})`,
    });
  else if (invalidAt === null && unknown === null && blocked.length > 0) {
    const what = blocked.map(
      (t) => `t${t.id} ${t.name} waits in ${t.exec.innermost()?.name ?? "?"}: ${t.waiting?.reason ?? "?"}`,
    );
    env.trace.push({
      sched: steps.length,
      thread: 0,
      fn: "scheduler",
      event: "finding",
      detail: `deadlock: ${what.join("; ")}`,
    });
    const at = blocked
      .map((t) => t.exec.innermost()?.name ?? "?")
      .sort()
      .join("+");
    env.findings.push({
      kind: "deadlock",
      at,
      thread: blocked.map((t) => `t${t.id} ${t.name}`).join(", "),
      detail: `no thread can run: ${what.join("; ")}`,
      step: env.trace.length - 1,
      subject: at,
    });
  }
  const outcome = m.threads
    .map((t) => {
      const r = t.result;
      if (r === null) return `${t.id}:blocked`;
      if (r.status === "done") return `${t.id}:done=${r.value.k === "int" ? r.value.v : r.value.k}`;
      return `${t.id}:${r.status}`;
    })
    .join("|");
  return {
    schedule: [...schedule],
    invalidAt,
    steps,
    choices,
    configAfter: configAfter ?? "",
    configEnd: config(m, locks()),
    findings: env.findings,
    trace: env.trace,
    threads: m.threads.map((t) => ({ id: t.id, name: t.name })),
    outcome,
    unknown,
    statements: m.steps,
  };
}

function pushFinding(env: ThreadedKernel, th: Thread, kind: ThreadFinding["kind"], detail: string): void {
  env.trace.push({
    sched: env.sched,
    thread: th.id,
    fn: th.exec.innermost()?.name ?? th.name,
    event: "finding",
    detail: `${kind}: ${detail}`,
  });
  const f: ThreadFinding = {
    kind,
    at: th.exec.innermost()?.name ?? th.name,
    thread: env.threadLabel(th),
    detail,
    step: env.trace.length - 1,
  };
  const site = env.postedSite(th);
  if (site !== undefined) f.site = site;
  env.findings.push(f);
}

/** A finding's identity in a search: its kind and the C function that raised it (or its subject). */
export const threadFindingKey = (f: ThreadFinding): string => `${f.kind}\u0000${f.subject ?? f.at}`;

export interface InterleaveOptions extends RunOptions, SearchOptions {}

export interface InterleavedFinding {
  finding: ThreadFinding;
  /** A shortest schedule that raises it. */
  schedule: number[];
  trace: ThreadTraceStep[];
  threads: { id: number; name: string }[];
}

export interface InterleaveResult extends SearchFigures {
  file: string;
  depth: number;
  findings: InterleavedFinding[];
}

/** Explores the interleavings of a driver's threads in `world` to `depth` scheduling choices. */
export function exploreInterleavings(
  driver: ThreadedDriver,
  world: ThreadWorld,
  opts: InterleaveOptions,
): InterleaveResult {
  const { findings, ...figures } = searchSync<ThreadFinding, Execution>(
    driver.file,
    threadFindingKey,
    opts,
    (prefix) => runSchedule(driver, world, prefix, opts),
  );
  return {
    file: driver.file,
    depth: opts.depth,
    ...figures,
    findings: findings.map((f) => ({
      finding: f.finding,
      schedule: f.schedule,
      trace: f.exec.trace,
      threads: f.exec.threads,
    })),
  };
}

// ---- text ---------------------------------------------------------------------------------------------

const threadName = (threads: readonly { id: number; name: string }[], id: number): string =>
  id === 0 ? "-" : `t${id} ${threads.find((t) => t.id === id)?.name ?? "?"}`;

/** "  12 [t2 firmware rproc-fw] rproc_boot lock: mutex &rproc->lock", one line per trace step. */
export function renderThreadTrace(
  trace: readonly ThreadTraceStep[],
  threads: readonly { id: number; name: string }[],
  from = 0,
  to = trace.length,
): string[] {
  const width = String(Math.max(0, trace.length - 1)).length;
  const lines: string[] = [];
  for (let i = Math.max(0, from); i < Math.min(to, trace.length); i++) {
    const s = trace[i] as ThreadTraceStep;
    const who = threadName(threads, s.thread);
    lines.push(
      `${String(i).padStart(width)} #${s.sched} [${who}] ${s.fn} ${s.event}${s.detail === "" ? "" : `: ${s.detail}`}`,
    );
  }
  return lines;
}

export function describeThreadFinding(f: ThreadFinding): string {
  const site = f.site === undefined ? "" : ` (posted code at ${f.site.file}:${f.site.line})`;
  return `${f.kind} in ${f.at} on ${f.thread} (step ${f.step}): ${f.detail}${site}`;
}

export function renderInterleaveText(r: InterleaveResult, replayAs: string): string {
  const secs = r.elapsedMs / 1000;
  const lines = [
    `${r.file}: interleavings to depth ${r.depth} (${r.reduction}): ${r.nodes} schedules, ${r.executions} executions, ${r.transitions} scheduling steps, ${r.states} configurations in ${secs.toFixed(2)} s = ${Math.round(r.transitions / Math.max(secs, 1e-6))} steps/s; ${r.pruned} pruned${r.audit === undefined ? "" : `; audit: the full search ran ${r.audit.executions} executions (${r.audit.nodes} schedules, ${r.audit.states} configurations) and found nothing more`}`,
  ];
  if (r.unknown !== null)
    lines.push(
      `  unknown: the schedule ${formatSchedule(r.unknown.schedule)} stopped: ${r.unknown.what} (executions past it are not verdicts)`,
    );
  if (r.findings.length === 0) lines.push("  no finding");
  else lines.push(`  ${r.findings.length} finding${r.findings.length === 1 ? "" : "s"}:`);
  for (const f of r.findings) {
    lines.push(`  ! ${describeThreadFinding(f.finding)}`);
    lines.push(
      `    shortest schedule: ${formatSchedule(f.schedule)} (${f.schedule.length} choice${f.schedule.length === 1 ? "" : "s"}, then the lowest runnable thread)`,
    );
    lines.push(
      `    replay: rproc-review replay ${replayAs} --schedule ${f.schedule.length === 0 ? '""' : f.schedule.map((t) => `t${t}`).join(",")}`,
    );
    const at = f.finding.step;
    for (const t of renderThreadTrace(f.trace, f.threads, at - 8, at + 1)) lines.push(`      ${t}`);
  }
  return lines.join("\n");
}

export function renderScheduleReplay(x: Execution): string {
  const lines = [`schedule: ${formatSchedule(x.schedule)}, then the lowest runnable thread`, "threads:"];
  for (const t of x.threads) lines.push(`  t${t.id} ${t.name}`);
  lines.push("trace:");
  for (const t of renderThreadTrace(x.trace, x.threads)) lines.push(`  ${t}`);
  if (x.unknown !== null) lines.push(`unknown: ${x.unknown}`);
  lines.push(x.findings.length === 0 ? "findings: none" : "findings:");
  for (const f of x.findings) lines.push(`  ${describeThreadFinding(f)}`);
  return lines.join("\n");
}
