/**
 * Interleavings of a design's own drivers on the hand model's kernel threads (src/semantics/kthread.ts): the
 * world of a matrix cell (src/scenarios/world.ts) with a kernel tree's stm32_rproc.c and the posted
 * remoteproc_tee.c from C, and the core from C where the matrix runs it so (the driver core's device_lock
 * serialises probe and remove), where the module load (probe, and with st,auto-boot the firmware loader's
 * rproc_auto_boot_callback on its worker), sysfs state writers, the driver core's unbind and the watchdog's
 * crash work are kernel threads, and the search chooses which one runs at every scheduling
 * point (a sleeping lock of the core or of the C, a C yield).
 *
 * A schedule is the list of threads chosen at the first choice points; past it the lowest-numbered runnable
 * thread runs, so a schedule names one whole execution. The search (src/explore/schedules.ts, shared with
 * the created drivers' world) is breadth-first and re-runs each schedule from a fresh world (executions are
 * deterministic), so the first schedule raising a finding is a shortest one.
 *
 * Reduction: sleep sets over each scheduling step's footprint (Kernel.footprint), which the kernel records
 * while the step runs: the locks it checks, takes and releases (lockWait, LockBase), the kernel objects it
 * allocates, frees or uses, the rproc's members (a proxy, Kernel.shared; its lock apart), device bindings
 * and driver data, device links, devres, queued work and thread creation (thread ids follow creation order),
 * the memory objects of the interpreted C (the twin of a hand-model object as one key, written), and one key
 * for the emulator and one for the rest of the model's state events (WARN, state changes, resource-table
 * copies). Calls, returns and log lines touch only the thread's own frames. What is not recorded: a member
 * of a hand-model object other than the rproc read or written without an event (a device's fields besides
 * its binding, the TEE client module's lists); `--audit` runs the full search too and fails on any finding,
 * configuration or outcome the reduced search misses or reaches later, and a test audits every built-in
 * design in every scenario on linux-6.12.
 */

import type { Fixtures } from "../emulator/api.ts";
import type { FindingKind, TraceStep } from "../scenarios/result.ts";
import { type Design, unknownReasons } from "../scenarios/run.ts";
import { World, worldDrivers } from "../scenarios/world.ts";
import { trackFactReads } from "../semantics/facts.ts";
import type { Footprint } from "../semantics/kthread.ts";
import { type KThread, KThreads } from "../semantics/kthread.ts";
import {
  formatSchedule,
  type SearchFigures,
  type SearchOptions,
  type SearchRun,
  type SearchStep,
  searchAsync,
} from "./schedules.ts";

/** Who else runs besides the module load. */
export interface KernelThreadWorld {
  /** The DT's st,auto-boot: rproc_add queues rproc_auto_boot_callback on the firmware loader's worker. */
  autoBoot: boolean;
  /** Writers of the rproc's sysfs state file, each on its own thread once the driver is bound. */
  writers: readonly ("start" | "stop")[];
  /** A write to the driver's unbind file (device_release_driver) once it is bound. */
  unbind: boolean;
  /** The firmware's watchdog fires once the driver is bound (stm32_rproc_wdg → rproc_report_crash's work). */
  crash: boolean;
}

/** The matrix's interleaving scenarios (issue: auto-boot at probe, unbind racing start, recovery racing stop). */
export const KERNEL_SCENARIOS: readonly { id: string; title: string; world: KernelThreadWorld }[] = [
  {
    id: "auto-boot-at-probe",
    title: "st,auto-boot: the firmware loader's auto-boot callback races the rest of probe",
    world: { autoBoot: true, writers: [], unbind: false, crash: false },
  },
  {
    id: "unbind-racing-start",
    title: "a sysfs start races the driver's unbind",
    world: { autoBoot: false, writers: ["start"], unbind: true, crash: false },
  },
  {
    id: "recovery-racing-stop",
    title: "auto-booted, the watchdog's crash recovery races a sysfs stop",
    world: { autoBoot: true, writers: ["stop"], unbind: false, crash: true },
  },
];

/**
 * The matrix's kinds, and those only kernel threads raise: lockdep's lock-order inversion, a deadlock, a data
 * race on a list of the posted C (src/interp/env/kernel.ts), a fault of the C, an execution that stopped.
 */
export type KernelFindingKind =
  | FindingKind
  | "lock-inversion"
  | "deadlock"
  | "data-race"
  | "fault"
  | "unknown";

export interface KernelThreadFinding {
  kind: KernelFindingKind;
  at: string;
  detail: string;
  /** The kernel thread it was raised on ("t2 work rproc_auto_boot_callback"), or "scheduler". */
  thread: string;
  /** The kernel trace step. */
  step: number;
  subject?: string;
  site?: { file: string; line: number };
}

export interface KernelExecution extends SearchRun<KernelThreadFinding> {
  schedule: number[];
  invalidAt: number | null;
  /** Per scheduling step: the runnable threads (ascending), the configuration before it, its footprint. */
  steps: SearchStep[];
  /** The step index of each choice point (more than one thread runnable), in order. */
  choices: number[];
  /** Per scheduling step: the thread run and the kernel trace index it started at. */
  segments: { thread: number; from: number; reason: string }[];
  /** The configuration at the end (threads' states). */
  configEnd: string;
  trace: TraceStep[];
  /** The trace index where the teardown after the last thread began (the trace's length when none ran). */
  teardownFrom: number;
  threads: { id: number; name: string }[];
  findings: KernelThreadFinding[];
  outcome: string;
  unknown: string | null;
}

export interface KernelRunOptions {
  /** Scheduling steps before the execution is unknown (a livelock). Default 500. */
  maxSched?: number;
}

const blank = (t: KThread): string => `${t.id}:${t.state}:${t.reason}`;

/** Runs one schedule of `design`'s drivers in a fresh world. */
export async function runKernelSchedule(
  design: Design,
  world: KernelThreadWorld,
  schedule: readonly number[],
  fixtures: Fixtures,
  opts: KernelRunOptions = {},
): Promise<KernelExecution> {
  // The facts it reads: an unknown fact read, or a changed function no fact describes called, means the
  // model ran in place of the posted code (the execution is unknown, as a matrix cell is).
  const tracked = trackFactReads(design.facts);
  const w = await World.create(tracked.facts, {
    platform: "stm32mp15",
    dt: "reference",
    fixtures,
    ...worldDrivers(design),
    autoBoot: world.autoBoot,
  });
  const k = w.k;
  const t = new KThreads({
    context: () => k.context(),
    setContext: (c) => k.setContext(c),
    get current() {
      return k.current;
    },
    lastStep: () => k.lastStep(),
  });
  k.threads = t;
  const insmod = t.spawn("insmod", () => w.bindDrivers());
  // The rproc's files exist once the driver is bound (a failed probe leaves nothing to write to): the
  // threads of user space and the watchdog start then.
  const bound = {
    reason: "waits for the driver to be bound",
    ready: () => w.rprocView !== null || insmod.state === "done",
  };
  // The rproc's state file is there once rproc_add registered it (the hand model's core; the C core's
  // sysfs writes find it through its class device, and fail with -ENODEV before device_add).
  const registered = {
    reason: "waits for the rproc's sysfs files (rproc_add)",
    ready: () =>
      insmod.state === "done" ||
      (w.coreInstance === null ? w.rproc?.registered === true : w.rprocView !== null),
  };
  for (const wr of world.writers)
    t.spawn(`sysfs state ${wr}`, () => (wr === "start" ? w.start() : w.stop()), registered);
  if (world.unbind) t.spawn("sysfs unbind", () => w.unbind(w.rprocDev, "stm32-rproc"), bound);
  if (world.crash) t.spawn("watchdog", () => w.crash(), bound);
  const maxSched = opts.maxSched ?? 500;
  const choices: number[] = [];
  const steps: SearchStep[] = [];
  const segments: KernelExecution["segments"] = [];
  let invalidAt: number | null = null;
  let unknown: string | null = null;
  for (let i = 0; ; i++) {
    const runnable = t.runnable();
    if (runnable.length === 0) break;
    if (i >= maxSched) {
      unknown = `the execution did not end within ${maxSched} scheduling steps`;
      break;
    }
    let th = runnable[0] as KThread;
    const config = t.threads.map(blank).join("|");
    if (runnable.length > 1) {
      const c = choices.length;
      choices.push(i);
      if (c < schedule.length) {
        const chosen = runnable.find((x) => x.id === schedule[c]);
        if (chosen === undefined) {
          invalidAt = c;
          break;
        }
        th = chosen;
      }
    }
    segments.push({ thread: th.id, from: k.trace.length, reason: th.reason });
    const footprint: Footprint = new Map();
    steps.push({ enabled: runnable.map((x) => x.id), config, footprint });
    k.footprint = footprint;
    await t.run(th);
    k.footprint = null;
  }
  const configEnd = t.threads.map(blank).join("|");
  k.threads = null;
  const findings: KernelThreadFinding[] = [];
  const teardownFrom = k.trace.length;
  const threadAt = (step: number): string => {
    if (step >= teardownFrom) return "teardown";
    let id = 0;
    for (const s of segments) if (s.from <= step) id = s.thread;
    return id === 0 ? "env" : t.label(t.threads.find((x) => x.id === id) ?? null);
  };
  const failed = t.threads.filter((x) => x.ended !== null && !x.ended.ok);
  for (const x of failed) {
    const error = (x.ended as { ok: false; error: unknown }).error;
    const why = design.stm32?.cannotRun(error) ?? design.tee?.cannotRun(error) ?? null;
    const fault = why?.why.startsWith("the C faulted") === true;
    const detail =
      why?.why ?? `the hand model stopped: ${error instanceof Error ? error.message : String(error)}`;
    if (!fault) unknown ??= `${t.label(x)}: ${detail}`;
    const f: KernelThreadFinding = {
      kind: fault ? "fault" : "unknown",
      at: why?.at === undefined ? x.name : `${why.at.file}:${why.at.line}`,
      detail,
      thread: t.label(x),
      step: k.lastStep(),
    };
    if (why?.at !== undefined) f.site = { file: why.at.file, line: why.at.line };
    findings.push(f);
  }
  const blocked = t.threads.filter((x) => x.state !== "done");
  if (invalidAt === null && unknown === null && blocked.length > 0) {
    const what = blocked.map((x) => `${t.label(x)}: ${x.reason}`);
    const at = blocked
      .map((x) => x.name)
      .sort()
      .join("+");
    findings.push({
      kind: "deadlock",
      at,
      detail: `no thread can run: ${what.join("; ")}`,
      thread: "scheduler",
      step: k.lastStep(),
      subject: at,
    });
  }
  for (const f of t.findings) findings.push({ ...f, thread: f.thread });
  if (invalidAt === null && blocked.length === 0 && failed.length === 0) {
    // Every thread ended: the state now, and the teardown's leak check, as a matrix cell ends.
    w.monitors.checkState(w.rprocView?.state ?? null, "the last thread");
    try {
      await w.teardown();
    } catch (e) {
      const why = design.stm32?.cannotRun(e) ?? design.tee?.cannotRun(e) ?? null;
      unknown ??= `teardown: ${why?.why ?? (e instanceof Error ? e.message : String(e))}`;
    }
  }
  const notPosted = unknownReasons(design, tracked.reads, k.trace);
  const first = notPosted[0];
  if (first !== undefined) {
    // As the matrix's "cannot review" line: what it read or called (a few), the series' files, the first why.
    const what = notPosted.map((r) => r.what);
    const shown = what.length > 4 ? [...what.slice(0, 4), `${what.length - 4} more`] : what;
    const files = [...new Set(notPosted.flatMap((r) => r.files))].sort();
    unknown ??= `the model ran in place of the posted code: ${shown.join(", ")}${files.length > 0 ? ` (${files.join(", ")})` : ""}, because ${first.why}`;
  }
  const inst = w.stm32Instance ?? w.teeInstance;
  for (const f of w.monitors.findings) {
    const site = inst?.siteOfStep(f.step);
    const g: KernelThreadFinding = {
      kind: f.kind,
      at: f.at,
      detail: f.detail,
      thread: threadAt(f.step),
      step: f.step,
    };
    if (site !== undefined) g.site = { file: site.file, line: site.line };
    findings.push(g);
  }
  const outcome = [
    ...t.threads.map((x) => `${x.id}:${x.state === "done" ? (x.ended?.ok ? "done" : "failed") : "blocked"}`),
    `rproc=${w.rprocView?.state ?? "absent"}`,
  ].join("|");
  return {
    schedule: [...schedule],
    invalidAt,
    steps,
    choices,
    configEnd,
    segments,
    trace: k.trace,
    teardownFrom,
    threads: t.threads.map((x) => ({ id: x.id, name: x.name })),
    findings,
    outcome,
    unknown,
  };
}

export const kernelFindingKey = (f: KernelThreadFinding): string => `${f.kind}\u0000${f.subject ?? f.at}`;

export interface KernelInterleaveOptions extends KernelRunOptions, SearchOptions {}

export interface KernelInterleavedFinding {
  finding: KernelThreadFinding;
  schedule: number[];
  execution: KernelExecution;
}

export interface KernelInterleaveResult extends SearchFigures {
  design: string;
  scenario: string;
  depth: number;
  findings: KernelInterleavedFinding[];
}

/** Explores the schedules of `design`'s kernel threads in `world` to `depth` choices, breadth-first. */
export async function exploreKernelInterleavings(
  design: Design,
  scenario: { id: string; world: KernelThreadWorld },
  fixtures: Fixtures,
  opts: KernelInterleaveOptions,
): Promise<KernelInterleaveResult> {
  const { findings, ...figures } = await searchAsync<KernelThreadFinding, KernelExecution>(
    `${design.id} / ${scenario.id}`,
    kernelFindingKey,
    opts,
    (prefix) => runKernelSchedule(design, scenario.world, prefix, fixtures, opts),
  );
  return {
    design: design.id,
    scenario: scenario.id,
    depth: opts.depth,
    ...figures,
    findings: findings.map((f) => ({ finding: f.finding, schedule: f.schedule, execution: f.exec })),
  };
}

// ---- text ---------------------------------------------------------------------------------------------

/** The kernel trace with the thread of each step ("  12 [t2 work rproc_auto_boot_callback] core rproc_boot call"). */
export function renderKernelTrace(x: KernelExecution, from = 0, to = x.trace.length): string[] {
  const name = (id: number) => {
    const th = x.threads.find((t) => t.id === id);
    return th === undefined ? "-" : `t${th.id} ${th.name}`;
  };
  const lines: string[] = [];
  let seg = -1;
  const width = String(Math.max(0, x.trace.length - 1)).length;
  for (let i = 0; i < Math.min(to, x.trace.length); i++) {
    while (seg + 1 < x.segments.length && (x.segments[seg + 1]?.from ?? Infinity) <= i) seg++;
    if (i < Math.max(0, from)) continue;
    const s = x.trace[i] as TraceStep;
    const who = i >= x.teardownFrom ? "teardown" : seg < 0 ? "-" : name(x.segments[seg]?.thread ?? 0);
    lines.push(
      `${String(i).padStart(width)} [${who}] ${s.layer} ${s.fn} ${s.event}${s.detail === "" ? "" : `: ${s.detail}`}`,
    );
  }
  return lines;
}

export function describeKernelFinding(f: KernelThreadFinding): string {
  const site = f.site === undefined ? "" : ` (posted code at ${f.site.file}:${f.site.line})`;
  return `${f.kind} in ${f.at} on ${f.thread} (step ${f.step}): ${f.detail}${site}`;
}

/** The search's text; `replayAs` is what a replay command names before --schedule (input, tree, scenario). */
export function renderKernelInterleaveText(r: KernelInterleaveResult, replayAs: string): string {
  const secs = r.elapsedMs / 1000;
  const lines = [
    `${r.design} / ${r.scenario}: interleavings to depth ${r.depth} (${r.reduction}): ${r.nodes} schedules, ${r.executions} executions, ${r.transitions} scheduling steps, ${r.states} configurations in ${secs.toFixed(2)} s; ${r.pruned} pruned${r.audit === undefined ? "" : `; audit: the full search ran ${r.audit.executions} executions (${r.audit.nodes} schedules, ${r.audit.states} configurations) and found nothing more`}`,
    `  per depth: ${r.perDepth.map((p) => `${p.depth}: ${p.nodes} schedules, ${(p.elapsedMs / 1000).toFixed(2)} s`).join("; ")}`,
  ];
  if (r.unknown !== null)
    lines.push(
      `  unknown: the schedule ${formatSchedule(r.unknown.schedule)} stopped: ${r.unknown.what} (executions past it are not verdicts)`,
    );
  lines.push(
    r.findings.length === 0
      ? "  no finding"
      : `  ${r.findings.length} finding${r.findings.length === 1 ? "" : "s"}:`,
  );
  for (const f of r.findings) {
    lines.push(`  ! ${describeKernelFinding(f.finding)}`);
    lines.push(`    shortest schedule: ${formatSchedule(f.schedule)} (then the lowest runnable thread)`);
    lines.push(
      `    replay: rproc-review replay ${replayAs} --schedule ${f.schedule.length === 0 ? '""' : f.schedule.map((t) => `t${t}`).join(",")}`,
    );
    const at = f.finding.step;
    for (const l of renderKernelTrace(f.execution, at - 8, at + 1)) lines.push(`      ${l}`);
  }
  return lines.join("\n");
}

export function renderKernelReplay(x: KernelExecution): string {
  const lines = [`schedule: ${formatSchedule(x.schedule)}, then the lowest runnable thread`, "threads:"];
  for (const t of x.threads) lines.push(`  t${t.id} ${t.name}`);
  lines.push("scheduling steps:");
  x.segments.forEach((s, i) => {
    lines.push(`  #${i} t${s.thread} (from trace step ${s.from}, resumed at: ${s.reason})`);
  });
  lines.push("trace:");
  for (const l of renderKernelTrace(x)) lines.push(`  ${l}`);
  if (x.unknown !== null) lines.push(`unknown: ${x.unknown}`);
  lines.push(x.findings.length === 0 ? "findings: none" : "findings:");
  for (const f of x.findings) lines.push(`  ${describeKernelFinding(f)}`);
  return lines.join("\n");
}

// ---- the matrix's interleaving rows -------------------------------------------------------------------

/** One matrix cell of an interleaving scenario: the search of one design to a depth. */
export interface InterleaveCell {
  version: string;
  scenario: string;
  depth: number;
  executions: number;
  states: number;
  /** Each distinct finding (kind, function) with its shortest schedule. */
  findings: { kind: KernelFindingKind; at: string; detail: string; thread: string; schedule: number[] }[];
  /** Why the cell is not the posted code's verdict (an execution stopped, the model stood in); null when it is. */
  unknown: string | null;
}

export interface InterleaveRows {
  depth: number;
  scenarios: { id: string; title: string }[];
  cells: InterleaveCell[];
}

/**
 * The interleaving scenarios as matrix rows: each design searched to `depth` in each scenario (matrix
 * --interleave). A design with a file of its series that did not run from C is unknown in every row.
 */
export async function runInterleaveRows(
  designs: readonly Design[],
  depth: number,
  fixtures: Fixtures,
): Promise<InterleaveRows> {
  const cells: InterleaveCell[] = [];
  for (const d of designs) {
    const notRun = (d.ran ?? []).filter((r) => r.from === "not run").map((r) => r.file);
    for (const s of KERNEL_SCENARIOS) {
      const r = await exploreKernelInterleavings(d, s, fixtures, { depth });
      const why = [
        ...(notRun.length > 0 ? [`${notRun.join(", ")} did not run from C: the model stood in for it`] : []),
        ...(r.unknown === null
          ? []
          : [`the schedule ${formatSchedule(r.unknown.schedule)} stopped: ${r.unknown.what}`]),
      ];
      cells.push({
        version: d.id,
        scenario: s.id,
        depth,
        executions: r.executions,
        states: r.states,
        findings: r.findings.map((f) => ({
          kind: f.finding.kind,
          at: f.finding.at,
          detail: f.finding.detail,
          thread: f.finding.thread,
          schedule: f.schedule,
        })),
        unknown: why.length > 0 ? why.join("; ") : null,
      });
    }
  }
  return { depth, scenarios: KERNEL_SCENARIOS.map((s) => ({ id: s.id, title: s.title })), cells };
}
