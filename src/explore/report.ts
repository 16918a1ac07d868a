/**
 * Explore's output: each version's search with its findings classified (pre-existing or introduced, and where)
 * and the replay command that reproduces each, as text or JSON.
 */
import type { Fixtures } from "../emulator/api.ts";
import { FINDING_MARKERS } from "../scenarios/render.ts";
import type { Finding, TraceStep } from "../scenarios/result.ts";
import {
  type Classification,
  classify,
  type Explorable,
  type ExploredFinding,
  type ExploreOptions,
  type ExploreResult,
  explore,
  RunMemo,
} from "./explore.ts";
import type { EventId } from "./session.ts";

export interface ReportedFinding extends ExploredFinding {
  classification: Classification;
  /** The command that prints the same trace. */
  replay: string;
}

export interface VersionReport extends Omit<ExploreResult, "findings"> {
  /** The design whose search this is, when it has the same facts as this one (its search ran once). */
  sameFactsAs?: string;
  findings: ReportedFinding[];
}

export function replayCommand(design: Explorable, events: readonly EventId[]): string {
  const names = design.replayAs ?? `--version ${design.id}`;
  return `rproc-review replay ${names} --events ${events.length === 0 ? '""' : events.join(",")}`;
}

/** Explores one design and classifies its findings against `baseline` and the designs before it. */
export async function exploreAndClassify(
  design: Explorable,
  context: { baseline: Explorable; earlier: readonly Explorable[] },
  fixtures: Fixtures,
  opts: ExploreOptions,
): Promise<VersionReport> {
  return classifyExploration(await explore(design, fixtures, opts), design, context, fixtures);
}

/**
 * Classifies an exploration's findings for `design`. The exploration may be another design's with the same
 * facts (the search is a function of them): it is relabelled, and `sameFactsAs` names that design.
 */
export async function classifyExploration(
  explored: ExploreResult | VersionReport,
  design: Explorable,
  context: { baseline: Explorable; earlier: readonly Explorable[] },
  fixtures: Fixtures,
): Promise<VersionReport> {
  const result =
    explored.version === design.id
      ? explored
      : { ...explored, version: design.id, sameFactsAs: explored.version };
  const findings: ReportedFinding[] = [];
  const memo = new RunMemo(fixtures);
  for (const f of result.findings) {
    findings.push({
      ...f,
      classification: await classify(f, design, context.baseline, context.earlier, memo),
      replay: replayCommand(design, f.events),
    });
  }
  return { ...result, findings };
}

/** "  12 core rproc_boot call: detail", one line per step (the matrix cell's trace, numbered). */
export function renderTrace(trace: readonly TraceStep[], from = 0, to = trace.length): string[] {
  const width = String(Math.max(0, trace.length - 1)).length;
  const lines: string[] = [];
  for (let i = Math.max(0, from); i < Math.min(to, trace.length); i++) {
    const s = trace[i] as TraceStep;
    lines.push(
      `${String(i).padStart(width)} ${s.layer} ${s.fn} ${s.event}${s.detail === "" ? "" : `: ${s.detail}`}`,
    );
  }
  return lines;
}

export function describeFinding(f: Finding): string {
  return `${f.kind} in ${f.at} (step ${f.step}): ${f.detail}`;
}

function describeClassification(c: Classification, baselineId: string): string {
  if (c.status === "pre-existing") return `pre-existing (${baselineId} raises it with the same events)`;
  const why =
    c.baseline === "absent"
      ? `${baselineId} runs the same events without it`
      : `${baselineId} cannot run these events`;
  return `introduced (${why}); introduced in ${c.introducedIn ?? "?"}`;
}

/** How many trace steps before a finding the text output shows. */
const EXCERPT = 6;

export function renderExploreText(reports: readonly VersionReport[], baselineId: string): string {
  const lines: string[] = [];
  for (const r of reports) {
    const secs = r.elapsedMs / 1000;
    lines.push(
      r.sameFactsAs !== undefined
        ? `${r.version}: the design facts of ${r.sameFactsAs}, so its search holds (depth ${r.depth}, ${r.states} states, ${r.transitions} transitions), not run again; findings classified for ${r.version}`
        : `${r.version}: depth ${r.depth}, ${r.events.length} events; ${r.states} states, ${r.transitions} transitions, ${r.teardowns} teardowns in ${secs.toFixed(2)} s = ${Math.round(r.transitions / Math.max(secs, 1e-6))} transitions/s; states per depth ${r.statesPerDepth.join(", ")}`,
    );
    if (r.fromC)
      lines.push(
        `  ran its posted C (each transition rebuilds the world and replays its sequence: ${r.eventsRun} events run)`,
      );
    const stop = r.stopped[0];
    if (stop !== undefined) {
      const at = stop.reason.at === undefined ? "" : ` at ${stop.reason.at.file}:${stop.reason.at.line}`;
      lines.push(
        `  the posted C stopped in ${r.stopped.length} sequence${r.stopped.length === 1 ? "" : "s"}, not searched past them (first: ${stop.events.length === 0 ? "binding the drivers" : stop.events.join(",")}${at}: ${stop.reason.what})`,
      );
    }
    if (r.findings.length === 0) {
      lines.push("  no finding");
      lines.push("");
      continue;
    }
    lines.push(`  ${r.findings.length} finding${r.findings.length === 1 ? "" : "s"}:`);
    // Findings raised by the same sequence share its description, classification and replay command.
    const bySequence = new Map<string, ReportedFinding[]>();
    for (const f of r.findings) {
      const key = `${f.events.join(",")}\u0000${describeClassification(f.classification, baselineId)}`;
      bySequence.set(key, [...(bySequence.get(key) ?? []), f]);
    }
    for (const group of bySequence.values()) {
      const first = group[0] as ReportedFinding;
      for (const f of group)
        lines.push(`  !${FINDING_MARKERS[f.finding.kind]} ${describeFinding(f.finding)}`);
      lines.push(
        `    shortest: ${first.events.length === 0 ? "(none: bind and teardown)" : first.events.join(", ")} (${first.events.length} event${first.events.length === 1 ? "" : "s"})`,
      );
      lines.push(`    ${describeClassification(first.classification, baselineId)}`);
      lines.push(`    replay: ${first.replay}`);
      const at = first.finding.step;
      for (const t of renderTrace(first.trace, at - EXCERPT, at + 1)) lines.push(`      ${t}`);
    }
    lines.push("");
  }
  return lines.join("\n").trimEnd();
}

export function renderReplayText(
  version: string,
  events: readonly EventId[],
  out: { findings: Finding[]; trace: TraceStep[] },
): string {
  const lines = [`${version}: ${events.length === 0 ? "(no events)" : events.join(", ")}`, "trace:"];
  for (const t of renderTrace(out.trace)) lines.push(`  ${t}`);
  lines.push(out.findings.length === 0 ? "findings: none" : "findings:");
  for (const f of out.findings) lines.push(`  ${describeFinding(f)}`);
  return lines.join("\n");
}
