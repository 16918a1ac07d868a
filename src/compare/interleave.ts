/**
 * The review's thread-interleaving part: the interleaving scenarios (src/explore/kernel-interleave.ts: auto-boot
 * at probe, unbind racing start, recovery racing stop) searched to the same depth of scheduling choices on A, B
 * and mainline, each with its own code (the C its matrix cells ran, the hand model for the rest), and their
 * findings compared per scenario by identity (kind, function): introduced (B only), fixed (A only), carried (A
 * and B, not mainline), pre-existing (B and mainline). Each keeps its shortest schedule and the replay command
 * that prints its trace.
 *
 * Honesty: a scenario is not judged when any of the three sides is not: a file of the side whose C did not run
 * (the model stands in for code nobody ran), an execution that read a fact the mapper could not read or called
 * a function changed in a way no fact describes, an execution the C or the model could not run to its end.
 * A scenario not judged has no classes: nothing in it is fixed, introduced or pre-existing.
 */
import type { Fixtures } from "../emulator/api.ts";
import {
  exploreKernelInterleavings,
  KERNEL_SCENARIOS,
  type KernelFindingKind,
  type KernelInterleaveResult,
  kernelFindingKey,
} from "../explore/kernel-interleave.ts";
import type { Design } from "../scenarios/run.ts";
import { canonicalJson } from "./diff.ts";

/** One side of the comparison: the design as its matrix cells ran it, and how a replay command names it. */
export interface InterleaveSubject {
  design: Design;
  /** What `rproc-review replay` names it with before --scenario ("--version v16", "--version dir --kernel-tree t"). */
  replayAs: string;
  /** Why its interleavings do not run its posted code whatever they find (a file whose C did not run). */
  notRepresented: readonly string[];
}

export type InterleaveClass = "introduced" | "fixed" | "carried" | "pre-existing";

export interface InterleaveFindingRef {
  scenario: string;
  class: InterleaveClass;
  kind: KernelFindingKind;
  /** The C function (or the threads of a deadlock) it is raised in. */
  at: string;
  detail: string;
  /** The kernel thread it was raised on ("t3 sysfs unbind", "teardown"). */
  thread: string;
  /** The posted line that raised it, when that side ran the file from C. */
  site?: { file: string; line: number };
  /** A shortest schedule raising it: the thread chosen at each choice point, then the lowest runnable. */
  schedule: number[];
  /** The command that prints its trace, on the version that raises it (B's, A's for a fixed one). */
  replay: string;
}

export interface InterleaveSideSummary {
  id: string;
  executions: number;
  transitions: number;
  states: number;
  /** Distinct findings (kind, function) its search raised. */
  findings: number;
  /** Why this side's search in the scenario is not its posted code's verdict; null when it is. */
  notJudged: string | null;
}

export interface InterleaveScenarioDiff {
  scenario: string;
  title: string;
  a: InterleaveSideSummary;
  b: InterleaveSideSummary;
  mainline: InterleaveSideSummary | null;
  /** Why the scenario is not judged (the sides' reasons); null when every side is. */
  notJudged: string | null;
  /** Classified findings (none when not judged). */
  findings: InterleaveFindingRef[];
  /** Findings A and B both raise (carried or pre-existing). */
  kept: number;
}

export interface InterleaveDiff {
  depth: number;
  scenarios: InterleaveScenarioDiff[];
  counts: { introduced: number; fixed: number; carried: number; preExisting: number; notJudged: number };
}

/** The command printing one schedule's trace (as `explore --interleave` prints it). */
export function interleaveReplayCommand(
  replayAs: string,
  scenario: string,
  schedule: readonly number[],
): string {
  const s = schedule.length === 0 ? '""' : schedule.map((t) => `t${t}`).join(",");
  return `rproc-review replay ${replayAs} --scenario ${scenario} --schedule ${s}`;
}

/**
 * Why the sides' findings cannot be told apart by the series: some ran the remoteproc core from C (a kernel
 * tree's remoteproc_core.c) and others the hand model's, so a difference may be the core's (the hand model's
 * rproc_del lets a start boot between its shutdown and RPROC_DELETED, 6.12's sets rproc->deleting first);
 * null when every side runs the same core.
 */
function coresDiffer(
  a: InterleaveSubject,
  b: InterleaveSubject,
  mainline: InterleaveSubject | null,
): string | null {
  const sides = [a, b, ...(mainline === null ? [] : [mainline])];
  const fromC = sides.filter((s) => s.design.stm32?.core !== undefined).map((s) => s.design.id);
  const model = sides.filter((s) => s.design.stm32?.core === undefined).map((s) => s.design.id);
  if (fromC.length === 0 || model.length === 0) return null;
  return `the sides run different remoteproc cores (${[...new Set(fromC)].join(", ")} from C, ${[...new Set(model)].join(", ")} the hand model's): their interleavings would compare the cores, not the series`;
}

/** A search not run (the sides' cores differ): no execution, no finding. */
const NOT_RUN: KernelInterleaveResult = {
  design: "",
  scenario: "",
  depth: 0,
  reduction: "sleep-sets",
  executions: 0,
  transitions: 0,
  nodes: 0,
  pruned: 0,
  states: 0,
  perDepth: [],
  elapsedMs: 0,
  unknown: null,
  findings: [],
};

/** Why a side's search is not judged: its unrepresented files, the first execution that stopped. */
function notJudgedOf(s: InterleaveSubject, r: KernelInterleaveResult): string | null {
  const why = [...s.notRepresented];
  if (r.unknown !== null)
    why.push(
      `${s.design.id}'s schedule ${r.unknown.schedule.length === 0 ? "(default)" : r.unknown.schedule.map((t) => `t${t}`).join(",")} stopped: ${r.unknown.what}`,
    );
  return why.length > 0 ? why.join("; ") : null;
}

function summary(s: InterleaveSubject, r: KernelInterleaveResult): InterleaveSideSummary {
  return {
    id: s.design.id,
    executions: r.executions,
    transitions: r.transitions,
    states: r.states,
    findings: r.findings.length,
    notJudged: notJudgedOf(s, r),
  };
}

/**
 * Searches the interleaving scenarios on A, B and mainline to `depth` and compares their findings. A search
 * is a function of the design: a side with no C whose facts equal another's (a RESEND, mainline as A) is
 * searched once.
 */
export async function compareInterleavings(
  a: InterleaveSubject,
  b: InterleaveSubject,
  mainline: InterleaveSubject | null,
  fixtures: Fixtures,
  depth: number,
  scenarioIds: readonly string[] = KERNEL_SCENARIOS.map((s) => s.id),
  /** B's function names as A and mainline know them (renamesOf over the matrix cells). */
  nameInA: (fn: string) => string = (fn) => fn,
): Promise<InterleaveDiff> {
  const cache = new Map<string, KernelInterleaveResult>();
  // The same facts with the same unreadable facts and unmodelled changes: the same search.
  const keyOf = (d: Design, scenario: string): string | null =>
    d.tee === undefined && d.stm32 === undefined
      ? `${scenario}\u0000${canonicalJson({ facts: d.facts, unknown: d.unknownFacts ?? [], unmodelled: d.unmodelled ?? [] })}`
      : null;
  // Sides with different cores are not judged whatever their searches find: none is run.
  const differ = coresDiffer(a, b, mainline);
  const search = async (s: InterleaveSubject, scenario: (typeof KERNEL_SCENARIOS)[number]) => {
    if (differ !== null) return NOT_RUN;
    const key = keyOf(s.design, scenario.id);
    const hit = key === null ? undefined : cache.get(key);
    if (hit !== undefined) return hit;
    const r = await exploreKernelInterleavings(s.design, scenario, fixtures, { depth });
    if (key !== null) cache.set(key, r);
    return r;
  };
  const scenarios: InterleaveScenarioDiff[] = [];
  for (const id of scenarioIds) {
    const sc = KERNEL_SCENARIOS.find((x) => x.id === id);
    if (sc === undefined) throw new Error(`unknown interleaving scenario ${id}`);
    const ra = await search(a, sc);
    const rb = b === a ? ra : await search(b, sc);
    const rm =
      mainline === null ? null : mainline === a ? ra : mainline === b ? rb : await search(mainline, sc);
    const sa = summary(a, ra);
    const sb = summary(b, rb);
    const sm = mainline === null || rm === null ? null : summary(mainline, rm);
    const reasons = [sa.notJudged, sb.notJudged, sm?.notJudged ?? null, differ].filter(
      (x): x is string => x !== null,
    );
    const inA = new Set(ra.findings.map((f) => kernelFindingKey(f.finding)));
    // B's findings under A's names (a renamed function's findings are its own).
    const keyB = (f: KernelInterleaveResult["findings"][number]) => {
      const { subject, ...rest } = f.finding;
      return kernelFindingKey({ ...rest, at: nameInA(subject ?? rest.at) });
    };
    const inB = new Set(rb.findings.map(keyB));
    const inM = new Set((rm?.findings ?? []).map((f) => kernelFindingKey(f.finding)));
    const findings: InterleaveFindingRef[] = [];
    const ref = (
      f: KernelInterleaveResult["findings"][number],
      cls: InterleaveClass,
      on: InterleaveSubject,
    ): InterleaveFindingRef => ({
      scenario: sc.id,
      class: cls,
      kind: f.finding.kind,
      at: f.finding.at,
      detail: f.finding.detail,
      thread: f.finding.thread,
      ...(f.finding.site === undefined ? {} : { site: { ...f.finding.site } }),
      schedule: [...f.schedule],
      replay: interleaveReplayCommand(on.replayAs, sc.id, f.schedule),
    });
    if (reasons.length === 0) {
      for (const f of rb.findings) {
        const k = keyB(f);
        const cls: InterleaveClass = inM.has(k) ? "pre-existing" : inA.has(k) ? "carried" : "introduced";
        findings.push(ref(f, cls, b));
      }
      for (const f of ra.findings)
        if (!inB.has(kernelFindingKey(f.finding))) findings.push(ref(f, "fixed", a));
    }
    scenarios.push({
      scenario: sc.id,
      title: sc.title,
      a: sa,
      b: sb,
      mainline: sm,
      notJudged: reasons.length > 0 ? [...new Set(reasons)].join("; ") : null,
      findings,
      kept: reasons.length > 0 ? 0 : [...inB].filter((k) => inA.has(k)).length,
    });
  }
  const all = scenarios.flatMap((s) => s.findings);
  const count = (c: InterleaveClass) => all.filter((f) => f.class === c).length;
  return {
    depth,
    scenarios,
    counts: {
      introduced: count("introduced"),
      fixed: count("fixed"),
      carried: count("carried"),
      preExisting: count("pre-existing"),
      notJudged: scenarios.filter((s) => s.notJudged !== null).length,
    },
  };
}
