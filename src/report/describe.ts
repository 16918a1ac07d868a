/**
 * Words shared by every renderer: how a cell, a trace step, a fact value, a piece of evidence and a finding
 * read in prose. Plain text; each renderer escapes or formats it for its medium.
 */
import type { ExploreDiff, ExploreFindingRef } from "../compare/explore.ts";
import type { InterleaveDiff, InterleaveFindingRef } from "../compare/interleave.ts";
import { FACT_LABELS } from "../compare/labels.ts";
import type {
  CellSummary,
  ClassifiedFinding,
  EvidenceItem,
  FactChange,
  ResponsibleFact,
  TraceHunk,
  VersionRef,
} from "../compare/types.ts";
import type { TraceStep } from "../scenarios/result.ts";
import type { FactPath } from "../semantics/facts.ts";
import { errnoName } from "../semantics/kernel.ts";

const MAX_VALUE = 160;

/** A fact value in prose: strings bare, lists and records with spaces (so that text can wrap). */
function prose(v: unknown): string {
  if (v === undefined || v === null) return "none";
  if (typeof v === "string") return v;
  if (Array.isArray(v)) return `[${v.map(prose).join(", ")}]`;
  if (typeof v === "object")
    return `{${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${k}: ${prose(x)}`)
      .join(", ")}}`;
  return String(v);
}

export function describeValue(v: unknown): string {
  const text = prose(v);
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE - 1)}…` : text;
}

export function describeStep(s: TraceStep | null): string {
  if (s === null) return "(trace ends)";
  return `${s.layer} ${s.fn} ${s.event}${s.detail === "" ? "" : `: ${s.detail}`}`;
}

/** ", made by the posted C at FILE:LINE" for a step the posted C made, else "". */
export function describeStepSite(at: { file: string; line: number } | undefined): string {
  return at === undefined ? "" : `, made by the posted C at ${at.file}:${at.line}`;
}

/** "ok, running", "-EIO, offline, 2 findings", "n/a", "unknown". */
export function describeCell(c: CellSummary | null): string {
  if (c === null) return "not run";
  if (!c.applicable) return "n/a";
  if (c.unknown) return "unknown";
  const parts = [c.ok ? "ok" : errnoName(c.errno), c.finalState];
  if (c.findings.length > 0) parts.push(`${c.findings.length} finding${c.findings.length === 1 ? "" : "s"}`);
  return parts.join(", ");
}

export function describeTee(c: CellSummary | null): string {
  return c === null || c.tee.length === 0 ? "none" : c.tee.join(" ");
}

/** "[v16 3/6] drivers/remoteproc/remoteproc_core.c:1234 rproc_boot() \"remoteproc: core: …\"". */
export function describeEvidence(version: string, e: EvidenceItem): string {
  const fn = e.function === null ? "" : /^\w+$/.test(e.function) ? ` ${e.function}()` : ` ${e.function}`;
  const where = `${e.file}${e.line === null ? "" : `:${e.line}`}${fn}`;
  const patch = e.patch === null ? `[${version}]` : `[${version} patch ${e.patch}]`;
  return `${patch} ${where} "${e.subject}"`;
}

const ORACLE = "hand-read oracle (src/semantics/versions.ts), no machine evidence";

/** Evidence lines for one side of a fact change, or why there is none. */
function sideEvidence(
  side: VersionRef,
  items: readonly EvidenceItem[],
  asMainline: boolean | undefined,
): string[] {
  if (items.length > 0) return items.map((e) => describeEvidence(side.id, e));
  if (side.factSource === "oracle") return [`${side.id}: ${ORACLE}`];
  if (asMainline) return [`${side.id}: as in mainline, no patch of the series changes it`];
  return [`${side.id}: no evidence recorded by the mapper for this fact`];
}

/** Evidence of a fact change on both sides; one line when both sides are hand-read oracles. */
export function evidenceLines(f: FactChange, a: VersionRef, b: VersionRef): string[] {
  if (a.factSource === "oracle" && b.factSource === "oracle") return [`${a.id}, ${b.id}: ${ORACLE}`];
  return [...sideEvidence(a, f.evidenceA, f.aAsMainline), ...sideEvidence(b, f.evidenceB, f.bAsMainline)];
}

export function describeFactChange(f: FactChange, a: VersionRef, b: VersionRef): string {
  return `${f.path}: ${a.id} ${describeValue(f.a)} → ${b.id} ${describeValue(f.b)}`;
}

export function describeFinding(f: ClassifiedFinding): string {
  const where = f.inB ? "" : " (gone)";
  const cls = f.class === "carried" && f.since ? `carried (since ${f.since})` : f.class;
  return `${cls}: ${f.kind} in ${f.at}${where}: ${f.detail}`;
}

export const CLASS_ORDER: Record<ClassifiedFinding["class"], number> = {
  introduced: 0,
  carried: 1,
  fixed: 2,
  "pre-existing": 3,
};

export function sortFindings(fs: readonly ClassifiedFinding[]): ClassifiedFinding[] {
  return [...fs].sort((x, y) => CLASS_ORDER[x.class] - CLASS_ORDER[y.class] || x.kind.localeCompare(y.kind));
}

/** Which outcome fields changed, in words. */
export function describeChanged(fields: readonly string[]): string {
  const words: Record<string, string> = {
    applicable: "applicability",
    ok: "success",
    errno: "error code",
    finalState: "final state",
    tee: "TA commands",
    findings: "findings",
    trace: "trace",
  };
  return fields.map((f) => words[f] ?? f).join(", ");
}

/** How the facts of a difference were chosen, for the line that introduces them. */
export function factsHeading(attributed: boolean): string {
  return attributed
    ? "facts responsible (each one, set back alone to the older value, changes this run)"
    : "facts responsible (differ between the versions and read by this run)";
}

export function describeResponsible(f: ResponsibleFact, a: VersionRef, b: VersionRef): string {
  return `${describeFactChange(f, a, b)}${f.effect === "untested" ? " (cannot be reverted alone)" : ""}`;
}

/** "also read and different, but inert when reverted alone: …", or null. */
export function inertLine(paths: readonly string[] | undefined): string | null {
  return paths && paths.length > 0
    ? `also read and different, but inert when reverted alone: ${paths.join(", ")}`
    : null;
}

/** "tee.entryAlloc (kzalloc): 16 scenarios (boot, …)". */
export function describeUnmentionedFact(u: { path: FactPath; scenarios: string[] }): string {
  const label = FACT_LABELS[u.path][0];
  return `${u.path}${label ? ` (${label})` : ""}: ${scenarioList(u.scenarios)}`;
}

/** "3 scenarios (boot, shutdown, restart)", at most `max` named. */
export function scenarioList(ids: readonly string[], max = 4): string {
  const more = ids.length > max ? `, +${ids.length - max}` : "";
  return `${ids.length} scenario${ids.length === 1 ? "" : "s"} (${ids.slice(0, max).join(", ")}${more})`;
}

/** The facts of one difference by path, pointing at the design-changes section for values and evidence. */
export function describeFactPaths(facts: readonly ResponsibleFact[]): string {
  return facts
    .map((f) => `${f.path}${f.effect === "untested" ? " (cannot be reverted alone)" : ""}`)
    .join(", ");
}

/** One side of a hunk: "v16 steps 4-5: core rproc_tee_probe lock: …; …" or "v15: nothing". */
function hunkSide(v: VersionRef, start: number, end: number, steps: readonly TraceStep[]): string {
  if (end === start) return `${v.id}: nothing`;
  const range = end - start === 1 ? `step ${start}` : `steps ${start}-${end - 1}`;
  const more = end - start > steps.length ? `; … (${end - start - steps.length} more)` : "";
  return `${v.id} ${range}: ${steps.map(describeStep).join("; ")}${more}`;
}

/** Both sides of one place where the traces part. */
export function describeHunk(h: TraceHunk, a: VersionRef, b: VersionRef): [string, string] {
  return [hunkSide(a, h.aStart, h.aEnd, h.a), hunkSide(b, h.bStart, h.bEnd, h.b)];
}

/** What mainline does with an explored finding's sequence, in words. */
export function describeExploreMainline(f: ExploreFindingRef): string {
  switch (f.mainline) {
    case "present":
      return "mainline raises it too (pre-existing)";
    case "absent":
      return "not in mainline";
    case "inexpressible":
      return "mainline cannot run these events";
    case "not run":
      return "";
  }
}

/**
 * Who raised an explored finding, in words, for a row of an exploration that is not judged (`unknown`: a side
 * did not run its posted code all the way): its class (new, gone, carried) would be a verdict on code the
 * search did not run, so a row says only which side raised it.
 */
export function unjudgedExploreRaiser(
  group: "introduced" | "fixed" | "carried",
  a: string,
  b: string,
): string {
  return group === "introduced" ? `only ${b}` : group === "fixed" ? `only ${a}` : "both";
}

/** What the explore part of a report says when both versions raise the same findings. */
export const EXPLORE_NOTHING_ALONE = "No finding is raised by only one of them.";

/** An explored finding's sequence for a table cell: "start, tee-unbind", or "(bind and teardown)". */
export function describeExploreSequence(f: ExploreFindingRef): string {
  return f.events.length === 0 ? "(bind and teardown)" : f.events.join(", ");
}

/** "use-after-free in rproc_tee_stop after start, tee-unbind" (the sequence, or bind and teardown alone). */
export function describeExploreFinding(f: ExploreFindingRef): string {
  const seq = f.events.length === 0 ? "at bind and teardown alone" : `after ${f.events.join(", ")}`;
  return `${f.kind} in ${describeExploreAt(f)} ${seq}`;
}

/** The function an explored finding is in, with the posted C line that raised it: "rproc_tee_start (file:12)". */
export function describeExploreAt(f: ExploreFindingRef): string {
  return f.site === undefined ? f.at : `${f.at} (${f.site.file}:${f.site.line})`;
}

/** Which sides were explored on their posted C (none: both on their facts over the hand model). */
function exploredOn(x: ExploreDiff): string {
  const c = [x.a, x.b].filter((s) => s.fromC === true).map((s) => s.id);
  if (c.length === 0) return "";
  const m = [x.a, x.b].filter((s) => s.fromC !== true).map((s) => s.id);
  return ` ${[...new Set(c)].join(" and ")} explored on ${c.length === 1 ? "its" : "their"} posted C (each transition a world of the design with its sequence replayed)${m.length > 0 ? `, ${m.join(" and ")} on its design facts over the hand model` : ""}.`;
}

/** The explore section's first sentence. */
export function exploreIntro(x: ExploreDiff): string {
  return `Every sequence of up to ${x.depth} external events (sysfs start/stop/recovery/firmware, crash, tampered image, driver unbind and bind, TEE failures), breadth-first on both versions: ${x.a.id} reached ${x.a.states} states, ${x.b.id} ${x.b.states}; ${x.kept} finding${x.kept === 1 ? "" : "s"} raised by both.${exploredOn(x)}${x.unknown ? ` Not judged: ${x.unknown}.` : x.unknownFacts.length > 0 ? ` The mapper could not read ${x.unknownFacts.join(", ")}: explored with the baseline value.` : ""}`;
}

/** One row of the interleavings' findings: a finding (class, kind, function) and the scenarios raising it. */
export interface InterleaveGroup {
  class: InterleaveFindingRef["class"];
  kind: string;
  at: string;
  detail: string;
  thread: string;
  site?: { file: string; line: number };
  scenarios: string[];
  /** The shortest schedule of the first scenario raising it, and its replay command. */
  schedule: number[];
  replay: string;
}

const INTERLEAVE_ORDER: readonly InterleaveFindingRef["class"][] = [
  "introduced",
  "carried",
  "fixed",
  "pre-existing",
];

/** The interleavings' findings, one group per class, kind and function (the shortest schedule kept). */
export function interleaveGroups(x: InterleaveDiff): InterleaveGroup[] {
  const groups = new Map<string, InterleaveGroup>();
  for (const s of x.scenarios)
    for (const f of s.findings) {
      const key = `${f.class}\u0000${f.kind}\u0000${f.at}`;
      const g = groups.get(key);
      if (g === undefined) {
        groups.set(key, {
          class: f.class,
          kind: f.kind,
          at: f.at,
          detail: f.detail,
          thread: f.thread,
          ...(f.site === undefined ? {} : { site: f.site }),
          scenarios: [f.scenario],
          schedule: f.schedule,
          replay: f.replay,
        });
        continue;
      }
      g.scenarios.push(f.scenario);
      if (f.schedule.length < g.schedule.length) {
        g.schedule = f.schedule;
        g.replay = f.replay;
        g.thread = f.thread;
      }
    }
  return [...groups.values()].sort(
    (a, b) => INTERLEAVE_ORDER.indexOf(a.class) - INTERLEAVE_ORDER.indexOf(b.class),
  );
}

/** A schedule in words: "t3,t3 (then the lowest runnable thread)", or "the default schedule". */
export function describeSchedule(s: readonly number[]): string {
  return s.length === 0
    ? "the default schedule (the lowest runnable thread)"
    : `${s.map((t) => `t${t}`).join(",")}, then the lowest runnable`;
}

/** The interleavings section's first sentence: the scenarios, the depth, what each side ran, what is not judged. */
export function interleaveIntro(x: InterleaveDiff): string {
  const s0 = x.scenarios[0];
  const sides = s0 === undefined ? [] : [s0.a.id, s0.b.id, ...(s0.mainline ? [s0.mainline.id] : [])];
  const runs = (pick: (s: InterleaveDiff["scenarios"][number]) => { executions: number } | null) =>
    x.scenarios.reduce((n, s) => n + (pick(s)?.executions ?? 0), 0);
  const counts =
    s0 === undefined
      ? ""
      : ` (${[
          `${s0.a.id} ${runs((s) => s.a)}`,
          `${s0.b.id} ${runs((s) => s.b)}`,
          ...(s0.mainline ? [`${s0.mainline.id} ${runs((s) => s.mainline)}`] : []),
        ].join(", ")} executions)`;
  const notJudged = x.scenarios.filter((s) => s.notJudged !== null);
  return `The interleaving scenarios (${x.scenarios.map((s) => s.scenario).join(", ")}) searched to ${x.depth} scheduling choice${x.depth === 1 ? "" : "s"} on ${sides.join(", ")}${counts}, each side with the code its matrix cells ran; findings compared per scenario by kind and function.${notJudged.map((s) => ` Not judged: ${s.scenario}: ${s.notJudged}.`).join("")}`;
}

/** What the interleavings section says when no finding is classified. */
export const INTERLEAVE_NOTHING = "No finding in the interleavings judged.";

/** The words of an interleaving finding's class. */
export function describeInterleaveClass(c: InterleaveFindingRef["class"], a: string, b: string): string {
  switch (c) {
    case "introduced":
      return `only ${b}`;
    case "fixed":
      return `only ${a}`;
    case "carried":
      return `${a} and ${b}, not mainline`;
    case "pre-existing":
      return "mainline too (pre-existing)";
  }
}
