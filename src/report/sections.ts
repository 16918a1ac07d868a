/**
 * Report content every renderer lays out the same way: which notes mention a scenario, which fact changes no
 * scenario showed, the trace excerpt around a divergence.
 */
import type {
  CheckedNote,
  ClassifiedFinding,
  FactChange,
  FindingClass,
  ResponsibleFact,
  ScenarioDiff,
} from "../compare/types.ts";
import type { ReviewReport } from "../review/report.ts";
import type { TraceStep } from "../scenarios/result.ts";
import { scenarioList, sortFindings } from "./describe.ts";

export function notesMentioning(r: ReviewReport, scenario: string): { note: CheckedNote; via: string[] }[] {
  const out: { note: CheckedNote; via: string[] }[] = [];
  for (const note of r.changelog.withDifference) {
    const m = note.matches.find((x) => x.scenario === scenario);
    if (m) out.push({ note, via: m.via });
  }
  return out;
}

/** The findings a difference section lists, in report order: pre-existing ones stay in the matrix only. */
export function sectionFindings(s: ScenarioDiff): ClassifiedFinding[] {
  return sortFindings(s.findings.filter((f) => f.class !== "pre-existing"));
}

export function differing(r: ReviewReport): ScenarioDiff[] {
  return r.diff.scenarios.filter((s) => s.status === "different");
}

/** Fact changes that no differing scenario read: design changes without a visible behaviour difference. */
export function silentFactChanges(r: ReviewReport): FactChange[] {
  const read = new Set(r.diff.scenarios.flatMap((s) => s.facts.map((f) => f.path)));
  return r.diff.factChanges.filter((f) => !read.has(f.path));
}

const BEFORE = 3;
const AFTER = 8;

/** The steps of one trace around the first divergence: [index, step] pairs. */
export function excerpt(trace: readonly TraceStep[], divergence: number | null): [number, TraceStep][] {
  const from = divergence === null ? 0 : Math.max(0, divergence - BEFORE);
  const to = divergence === null ? BEFORE + AFTER : divergence + AFTER;
  return trace.slice(from, to).map((s, i) => [from + i, s]);
}

/** "cover letter" or "patch 3/6: …", then the note in quotes, shortened. */
export function describeNote(n: CheckedNote, max = 200): string {
  const text = n.note.text.replace(/\s+/g, " ").trim();
  return `${n.where}: "${text.length > max ? `${text.slice(0, max - 1)}…` : text}"`;
}

/** What a note was matched to: "core.releaseFwCalls; 3 scenarios (boot, shutdown, restart)". */
export function describeNoteMatches(n: CheckedNote, max = 4): string {
  const parts: string[] = [];
  if (n.facts.length > 0) parts.push(n.facts.join(", "));
  const sc = n.matches.map((m) => m.scenario);
  if (sc.length > 0) parts.push(scenarioList(sc, max));
  return parts.join("; ");
}

export interface CausalFact {
  change: ResponsibleFact;
  /** The differing scenarios it is responsible for. */
  scenarios: string[];
  /** Changelog notes that name it. */
  notes: CheckedNote[];
}

/** Each fact responsible for at least one difference, once, with its scenarios and the notes naming it. */
export function causalFacts(r: ReviewReport): CausalFact[] {
  const out = new Map<string, CausalFact>();
  for (const s of differing(r)) {
    for (const f of s.facts) {
      const entry = out.get(f.path) ?? {
        change: f,
        scenarios: [],
        notes: r.changelog.withDifference.filter((n) => n.facts.includes(f.path)),
      };
      entry.scenarios.push(s.scenario);
      out.set(f.path, entry);
    }
  }
  return [...out.values()];
}

export interface FindingGroup {
  kind: ClassifiedFinding["kind"];
  at: string;
  /** Detail of the first scenario it was seen in. */
  detail: string;
  scenarios: string[];
  /** For carried findings: the oldest version of the chain that raises it too. */
  since?: string;
}

/** Findings of one class grouped by kind and place, each with the scenarios it shows in. */
export function groupFindings(
  r: ReviewReport,
  cls: FindingClass,
  only?: (f: ClassifiedFinding) => boolean,
): FindingGroup[] {
  const groups = new Map<string, FindingGroup>();
  for (const s of r.diff.scenarios) {
    for (const f of s.findings) {
      if (f.class !== cls || (only && !only(f))) continue;
      const key = `${f.kind}\u0000${f.at}`;
      const g: FindingGroup = groups.get(key) ?? {
        kind: f.kind,
        at: f.at,
        detail: f.detail,
        scenarios: [],
        ...(f.since ? { since: f.since } : {}),
      };
      g.scenarios.push(s.scenario);
      groups.set(key, g);
    }
  }
  return [...groups.values()];
}

/** Why scenarios could not be reviewed, one line per thing they depended on (what, files, why). */
export function cannotReviewLines(r: ReviewReport): string[] {
  const seen = new Map<string, { line: string; scenarios: string[] }>();
  for (const s of r.diff.scenarios)
    for (const u of s.unknownBecause) {
      const line = `${u.what}${u.files.length > 0 ? ` (${u.files.join(", ")})` : ""}: ${u.why}`;
      const e = seen.get(line) ?? { line, scenarios: [] };
      if (!e.scenarios.includes(s.scenario)) e.scenarios.push(s.scenario);
      seen.set(line, e);
    }
  return [...seen.values()].map((e) => `${e.line}; ${scenarioList(e.scenarios)}`);
}
