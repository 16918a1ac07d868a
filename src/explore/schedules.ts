/**
 * The breadth-first search over schedules both interleaving worlds share: the threaded environment of created
 * drivers (src/explore/interleave.ts) and the matrix world on the hand model's kernel threads
 * (src/explore/kernel-interleave.ts). A world runs one schedule from a fresh start and records, per scheduling
 * step, the runnable threads, the configuration and the step's footprint; this module chooses the schedules.
 *
 * A schedule is the list of threads chosen at the first choice points; past it the lowest-numbered runnable
 * thread runs, so a schedule names one whole execution, and the search runs schedules by length, so the
 * first one raising a finding is a shortest one.
 *
 * Reduction (sleep sets, Godefroid): after the subtree of a thread t is explored from a node, t sleeps in its
 * later siblings' subtrees as long as the steps taken there are independent of t's pending step (their
 * footprints do not conflict: no key both touch with one of them writing); a sleeping thread is not chosen,
 * since a schedule choosing it there is a permutation of independent steps of one already explored.
 * Independent steps commute, so the permuted schedules reach the same configuration and their default
 * completions are the same execution. The reduction is as sound as the footprints are complete; the audit
 * runs the full search too and fails when the reduced one misses a finding, a configuration or an outcome,
 * or finds one later.
 *
 * The search is a generator of the schedules it wants run, so one search serves a synchronous world
 * (searchSync) and an asynchronous one (searchAsync).
 */
import { UsageError } from "../errors.ts";
import { conflicts, type Footprint } from "../semantics/kthread.ts";

export { conflicts, type Footprint };

/** One scheduling step as the search reads it. */
export interface SearchStep {
  /** Runnable threads before the step, ascending. */
  readonly enabled: readonly number[];
  /** The configuration before the step. */
  readonly config: string;
  /** What the step read and wrote. */
  readonly footprint: Footprint;
}

/** One execution as the search reads it. */
export interface SearchRun<F> {
  /** The index of a schedule entry naming a thread that could not run there, or null. */
  readonly invalidAt: number | null;
  /** What could not be run (the execution is not a verdict past it), or null. */
  readonly unknown: string | null;
  /** How every thread ended: what the audit compares. */
  readonly outcome: string;
  readonly findings: readonly F[];
  readonly steps: readonly SearchStep[];
  /** The step index of each choice point (more than one thread runnable), in order. */
  readonly choices: readonly number[];
  /** The configuration at the end. */
  readonly configEnd: string;
}

export interface SearchOptions {
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

/** The first execution raising a finding (by its key), with its schedule. */
export interface Found<F, X> {
  finding: F;
  schedule: number[];
  exec: X;
}

export interface SearchFigures {
  reduction: "sleep-sets" | "none";
  /** Executions run from a fresh start. */
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
  /** The first execution that could not be run to its end, if any. */
  unknown: { schedule: number[]; what: string } | null;
  /** Under audit: the full search's figures. */
  audit?: { executions: number; states: number; nodes: number };
}

export interface SearchResult<F, X> extends SearchFigures {
  findings: Found<F, X>[];
}

interface Node<X> {
  prefix: number[];
  exec: X;
  /** The step of `exec` at which the next choice is made (-1: none, the execution ends first). */
  at: number;
  /** Threads asleep at that choice, with the footprint of their pending step. */
  sleep: Map<number, Footprint>;
}

/** The index of the first choice point of `x` after step `after`, or -1. */
function nextChoice<F>(x: SearchRun<F>, after: number): number {
  for (const c of x.choices) if (c > after) return c;
  return -1;
}

export const formatSchedule = (s: readonly number[]): string =>
  s.length === 0 ? "(default)" : s.map((t) => `t${t}`).join(",");

interface Raw<F, X> {
  found: Map<string, Found<F, X>>;
  states: Set<string>;
  outcomes: Set<string>;
  figures: Omit<SearchFigures, "reduction" | "states" | "audit">;
}

/** One breadth-first search; yields the schedules to run and receives their executions. */
function* bfs<F, X extends SearchRun<F>>(
  key: (f: F) => string,
  opts: SearchOptions,
  reduce: boolean,
): Generator<number[], Raw<F, X>, X> {
  if (!Number.isInteger(opts.depth) || opts.depth < 0)
    throw new UsageError(`depth must be a non-negative integer, not ${opts.depth}`, { subject: "--depth" });
  const started = performance.now();
  const found = new Map<string, Found<F, X>>();
  const states = new Set<string>();
  const outcomes = new Set<string>();
  let executions = 0;
  let transitions = 0;
  let nodes = 1;
  let pruned = 0;
  let unknown: SearchFigures["unknown"] = null;
  const conflict = opts.conflicts ?? conflicts;
  const seen = (prefix: number[], x: X): X => {
    executions++;
    transitions += x.steps.length;
    if (x.invalidAt !== null)
      throw new Error(`schedule ${formatSchedule(prefix)} is not runnable at ${x.invalidAt}`);
    if (x.unknown !== null && unknown === null) unknown = { schedule: prefix, what: x.unknown };
    outcomes.add(x.outcome);
    for (const f of x.findings) {
      const k = key(f);
      if (!found.has(k)) found.set(k, { finding: f, schedule: prefix, exec: x });
    }
    return x;
  };
  const root = seen([], yield []);
  const first = nextChoice(root, -1);
  states.add(first < 0 ? root.configEnd : (root.steps[first] as SearchStep).config);
  let frontier: Node<X>[] = [{ prefix: [], exec: root, at: first, sleep: new Map() }];
  const perDepth: SearchFigures["perDepth"] = [];
  for (let d = 1; d <= opts.depth && frontier.length > 0; d++) {
    const next: Node<X>[] = [];
    let atDepth = 0;
    const execBefore = executions;
    for (const node of frontier) {
      if (node.at < 0) continue;
      const enabled = (node.exec.steps[node.at] as SearchStep).enabled;
      const explored: { t: number; fp: Footprint }[] = [];
      for (const t of enabled) {
        if (reduce && node.sleep.has(t)) {
          pruned++;
          continue;
        }
        const prefix = [...node.prefix, t];
        // The default policy runs the lowest runnable thread: that child's execution is the node's own.
        const exec = t === enabled[0] ? node.exec : seen(prefix, yield prefix);
        const fp = (exec.steps[node.at] as SearchStep).footprint;
        const at = nextChoice(exec, node.at);
        states.add(at < 0 ? exec.configEnd : (exec.steps[at] as SearchStep).config);
        atDepth++;
        nodes++;
        let sleep = new Map<number, Footprint>();
        if (reduce) {
          for (const [u, f] of node.sleep) if (!conflict(f, fp)) sleep.set(u, f);
          for (const e of explored) if (!conflict(e.fp, fp)) sleep.set(e.t, e.fp);
          // The forced steps up to the next choice must leave a sleeper's pending step alone too.
          const end = at < 0 ? exec.steps.length : at;
          for (let i = node.at + 1; i < end && sleep.size > 0; i++) {
            const f = (exec.steps[i] as SearchStep).footprint;
            sleep = new Map([...sleep].filter(([, g]) => !conflict(g, f)));
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
    figures: {
      executions,
      transitions,
      nodes,
      pruned,
      perDepth,
      unknown,
      elapsedMs: performance.now() - started,
    },
  };
}

/** The search (and under audit the full one after it), as one generator of schedules to run. */
function* search<F, X extends SearchRun<F>>(
  what: string,
  key: (f: F) => string,
  opts: SearchOptions,
): Generator<number[], SearchResult<F, X>, X> {
  const reduce = opts.reduce ?? true;
  const r = yield* bfs<F, X>(key, opts, reduce);
  const result: SearchResult<F, X> = {
    reduction: reduce ? "sleep-sets" : "none",
    ...r.figures,
    states: r.states.size,
    findings: [...r.found.values()],
  };
  if (opts.audit && reduce) {
    const full = yield* bfs<F, X>(key, opts, false);
    const missing = (a: Set<string>, b: Set<string>): string[] => [...a].filter((x) => !b.has(x));
    const lostFindings = missing(new Set(full.found.keys()), new Set(r.found.keys()));
    const lostStates = missing(full.states, r.states);
    const lostOutcomes = missing(full.outcomes, r.outcomes);
    const longer = [...r.found].filter(
      ([k, f]) => (full.found.get(k)?.schedule.length ?? Infinity) < f.schedule.length,
    );
    if (lostFindings.length + lostStates.length + lostOutcomes.length + longer.length > 0)
      throw new Error(
        `${what}: the reduction is unsound at depth ${opts.depth}: it misses ${lostFindings.length} finding(s) (${lostFindings.map((k) => k.replace("\u0000", " in ")).join(", ")}), ${lostStates.length} configuration(s), ${lostOutcomes.length} outcome(s) (${lostOutcomes.join("; ")}), and finds ${longer.length} later than the full search (${longer.map(([k]) => k.replace("\u0000", " in ")).join(", ")})`,
      );
    result.audit = {
      executions: full.figures.executions,
      states: full.states.size,
      nodes: full.figures.nodes,
    };
  }
  return result;
}

/** Searches a world whose executions run synchronously. */
export function searchSync<F, X extends SearchRun<F>>(
  what: string,
  key: (f: F) => string,
  opts: SearchOptions,
  run: (schedule: number[]) => X,
): SearchResult<F, X> {
  const it = search<F, X>(what, key, opts);
  let r = it.next();
  while (!r.done) r = it.next(run(r.value));
  return r.value;
}

/** Searches a world whose executions are asynchronous (the hand model's kernel threads). */
export async function searchAsync<F, X extends SearchRun<F>>(
  what: string,
  key: (f: F) => string,
  opts: SearchOptions,
  run: (schedule: number[]) => Promise<X>,
): Promise<SearchResult<F, X>> {
  const it = search<F, X>(what, key, opts);
  let r = it.next();
  while (!r.done) r = it.next(await run(r.value));
  return r.value;
}
