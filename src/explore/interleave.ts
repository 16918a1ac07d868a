/**
 * Interleavings: the posted driver's C runs on kernel threads of the threaded environment
 * (src/interp/env/threads.ts) and the search chooses which thread runs at every scheduling point.
 *
 * A schedule is the list of threads chosen at the first scheduling points ("t1,t2,t2"); after it the
 * default policy runs the lowest-numbered runnable thread, so every schedule names one whole execution and a
 * finding's schedule is the shortest prefix that makes the default reach it. The search is breadth-first
 * over schedules up to `depth` choices, re-running each from a fresh machine (executions are deterministic;
 * generators cannot be copied), so the first schedule that raises a finding is a shortest one.
 *
 * Reduction (sleep sets, Godefroid): each step's footprint is what it read and wrote (objects of the
 * interpreter's memory, locks, threads created, the environment's bookkeeping). After the subtree of a
 * thread t is explored from a node, t sleeps in its later siblings' subtrees as long as the steps taken
 * there are independent of t's pending step; a sleeping thread is not chosen, since any schedule choosing it
 * there is a permutation of independent steps of one already explored. Independent steps commute, so the
 * permuted schedules reach the same configuration and their default completions are the same execution:
 * no finding, state or outcome is lost. The one assumption: addresses are abstract (two allocations in either
 * order are the same state up to renaming), which `--audit` checks with the full search on small depths.
 */
import type { Parser } from "web-tree-sitter";
import { UsageError } from "../errors.ts";
import type { Program } from "../interp/ast.ts";
import {
  type Footprint,
  conflicts as footprintsConflict,
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

export type { ThreadFinding, ThreadTraceStep, ThreadWorld };

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

export const formatSchedule = (s: readonly number[]): string =>
  s.length === 0 ? "(default)" : s.map((t) => `t${t}`).join(",");

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
  m.subscribe((e) => {
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

export interface InterleaveOptions extends RunOptions {
  /** Scheduling choices explored (the schedule's length). */
  depth: number;
  /** Sleep-set reduction (default true). */
  reduce?: boolean;
  /** Also run the full search and throw when the reduced one misses a finding, a configuration or an outcome. */
  audit?: boolean;
  /**
   * Whether two steps' footprints conflict (the reduction's dependence relation; default: a key both touch,
   * one of them writing). Tests pass a wrong one to see the audit catch an unsound reduction.
   */
  conflicts?: (a: Footprint, b: Footprint) => boolean;
  onProgress?: (p: { depth: number; executions: number; findings: number; elapsedMs: number }) => void;
}

export interface InterleavedFinding {
  finding: ThreadFinding;
  /** A shortest schedule that raises it. */
  schedule: number[];
  trace: ThreadTraceStep[];
  threads: { id: number; name: string }[];
}

export interface InterleaveResult {
  file: string;
  depth: number;
  reduction: "sleep-sets" | "none";
  /** Executions run from a fresh machine. */
  executions: number;
  /** Scheduling steps run in all executions (the search's transitions). */
  transitions: number;
  /** Schedules (tree nodes) considered, the empty one included. */
  nodes: number;
  /** Children not explored because their thread slept. */
  pruned: number;
  /** Distinct configurations reached at the end of a schedule. */
  states: number;
  /** Per depth: schedules of that length explored, executions run, cumulative time. */
  perDepth: { depth: number; nodes: number; executions: number; elapsedMs: number }[];
  elapsedMs: number;
  findings: InterleavedFinding[];
  /** The first execution the interpreter could not run to its end, if any. */
  unknown: { schedule: number[]; what: string } | null;
  /** Under audit: the full search's figures. */
  audit?: { executions: number; states: number; nodes: number };
}

interface Node {
  /** The choices made. */
  prefix: number[];
  exec: Execution;
  /** The step of `exec` at which the next choice is made (-1: none, the execution ends first). */
  at: number;
  /** Threads asleep at that choice, with the footprint of their pending step. */
  sleep: Map<number, Footprint>;
}

/** The index of the first choice point of `x` after step `after`, or -1. */
function nextChoice(x: Execution, after: number): number {
  for (const c of x.choices) if (c > after) return c;
  return -1;
}

function search(driver: ThreadedDriver, world: ThreadWorld, opts: InterleaveOptions, reduce: boolean) {
  if (!Number.isInteger(opts.depth) || opts.depth < 0)
    throw new UsageError(`depth must be a non-negative integer, not ${opts.depth}`, { subject: "--depth" });
  const started = performance.now();
  const found = new Map<string, InterleavedFinding>();
  const states = new Set<string>();
  const outcomes = new Set<string>();
  let executions = 0;
  let transitions = 0;
  let nodes = 1;
  let pruned = 0;
  let unknown: { schedule: number[]; what: string } | null = null;
  const conflicts = opts.conflicts ?? footprintsConflict;
  const run = (prefix: number[]): Execution => {
    executions++;
    const x = runSchedule(driver, world, prefix, opts);
    transitions += x.steps.length;
    if (x.invalidAt !== null)
      throw new Error(`schedule ${formatSchedule(prefix)} is not runnable at ${x.invalidAt}`);
    if (x.unknown !== null && unknown === null) unknown = { schedule: prefix, what: x.unknown };
    outcomes.add(x.outcome);
    for (const f of x.findings) {
      const k = threadFindingKey(f);
      if (!found.has(k)) found.set(k, { finding: f, schedule: prefix, trace: x.trace, threads: x.threads });
    }
    return x;
  };
  const root = run([]);
  states.add(root.configAfter);
  let frontier: Node[] = [{ prefix: [], exec: root, at: nextChoice(root, -1), sleep: new Map() }];
  const perDepth: InterleaveResult["perDepth"] = [];
  for (let d = 1; d <= opts.depth && frontier.length > 0; d++) {
    const next: Node[] = [];
    let atDepth = 0;
    const execBefore = executions;
    for (const node of frontier) {
      if (node.at < 0) continue;
      const enabled = (node.exec.steps[node.at] as StepRecord).enabled;
      const explored: { t: number; fp: Footprint }[] = [];
      for (const t of enabled) {
        if (reduce && node.sleep.has(t)) {
          pruned++;
          continue;
        }
        const prefix = [...node.prefix, t];
        // The default policy runs the lowest runnable thread: that child's execution is the node's own.
        const exec = t === enabled[0] ? node.exec : run(prefix);
        const fp = (exec.steps[node.at] as StepRecord).footprint;
        const at = nextChoice(exec, node.at);
        states.add(at < 0 ? exec.configEnd : (exec.steps[at] as StepRecord).config);
        atDepth++;
        nodes++;
        let sleep = new Map<number, Footprint>();
        if (reduce) {
          for (const [u, f] of node.sleep) if (!conflicts(f, fp)) sleep.set(u, f);
          for (const e of explored) if (!conflicts(e.fp, fp)) sleep.set(e.t, e.fp);
          // The forced steps up to the next choice must leave a sleeper's pending step alone too.
          const end = at < 0 ? exec.steps.length : at;
          for (let i = node.at + 1; i < end && sleep.size > 0; i++) {
            const f = (exec.steps[i] as StepRecord).footprint;
            sleep = new Map([...sleep].filter(([, g]) => !conflicts(g, f)));
          }
        }
        explored.push({ t, fp });
        if (d < opts.depth && at >= 0) next.push({ prefix, exec, at, sleep });
        opts.onProgress?.({
          depth: d,
          executions,
          findings: found.size,
          elapsedMs: performance.now() - started,
        });
      }
    }
    perDepth.push({
      depth: d,
      nodes: atDepth,
      executions: executions - execBefore,
      elapsedMs: performance.now() - started,
    });
    frontier = next;
  }
  return {
    found,
    states,
    outcomes,
    executions,
    transitions,
    nodes,
    pruned,
    perDepth,
    unknown,
    elapsedMs: performance.now() - started,
  };
}

/** Explores the interleavings of a driver's threads in `world` to `depth` scheduling choices. */
export function exploreInterleavings(
  driver: ThreadedDriver,
  world: ThreadWorld,
  opts: InterleaveOptions,
): InterleaveResult {
  const reduce = opts.reduce ?? true;
  const r = search(driver, world, opts, reduce);
  const result: InterleaveResult = {
    file: driver.file,
    depth: opts.depth,
    reduction: reduce ? "sleep-sets" : "none",
    executions: r.executions,
    transitions: r.transitions,
    nodes: r.nodes,
    pruned: r.pruned,
    states: r.states.size,
    perDepth: r.perDepth,
    elapsedMs: r.elapsedMs,
    findings: [...r.found.values()],
    unknown: r.unknown,
  };
  if (opts.audit && reduce) {
    const full = search(driver, world, opts, false);
    const missing = (a: Set<string>, b: Set<string>): string[] => [...a].filter((x) => !b.has(x));
    const lostFindings = missing(new Set(full.found.keys()), new Set(r.found.keys()));
    const lostStates = missing(full.states, r.states);
    const lostOutcomes = missing(full.outcomes, r.outcomes);
    const longer = [...r.found].filter(
      ([k, f]) => (full.found.get(k)?.schedule.length ?? Infinity) < f.schedule.length,
    );
    if (lostFindings.length + lostStates.length + lostOutcomes.length + longer.length > 0)
      throw new Error(
        `${driver.file}: the reduction is unsound at depth ${opts.depth}: it misses ${lostFindings.length} finding(s) (${lostFindings.map((k) => k.replace("\u0000", " in ")).join(", ")}), ${lostStates.length} configuration(s), ${lostOutcomes.length} outcome(s) (${lostOutcomes.join("; ")}), and finds ${longer.length} later than the full search`,
      );
    result.audit = { executions: full.executions, states: full.states.size, nodes: full.nodes };
  }
  return result;
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
