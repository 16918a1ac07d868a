/**
 * Types of the behavioural comparison of two versions (src/compare). Plain JSON values: a VersionDiff is part
 * of the JSON report (`rproc-review diff --format json`).
 */

import type {
  CellResult,
  FinalState,
  FindingKind,
  RanFile,
  TaCommandName,
  TraceStep,
  UnknownReason,
} from "../scenarios/result.ts";
import type { DesignFacts, FactPath } from "../semantics/facts.ts";
import type { ChangelogNote, Series } from "../series/types.ts";
import type { Rename } from "./renames.ts";

/** Where in a series a fact was read (the mapper's evidence entry). */
export interface EvidenceItem {
  /** 1-based patch index in its series; null when the evidence is not tied to one patch. */
  patch: number | null;
  /** The patch's subject (without prefixes). */
  subject: string;
  file: string;
  /** The C function the evidence is in, when known. */
  function: string | null;
  /** Line in the new file, when known. */
  line: number | null;
}

export type EvidenceMap = Partial<Record<FactPath, EvidenceItem[]>>;

/**
 * Where the facts of a version come from: "mapper" (derived from a series' diff, evidence per fact),
 * "oracle-mapped" (a built-in version with the mapper's evidence stored next to it), or "oracle" (a built-in
 * version, hand-read, no machine evidence).
 */
export type FactSource = "mapper" | "oracle-mapped" | "oracle";

/** One side of a comparison: a design, its matrix cells, and what we know of where it came from. */
export interface VersionSide {
  /** Built-in id or series id ("v16"). */
  id: string;
  title: string;
  /** How to name this version on the command line (reproduce line): a built-in id or an input spec. */
  spec: string;
  facts: DesignFacts;
  /** Cells of this design, one per scenario (from runMatrix/runScenario). */
  cells: CellResult[];
  factSource: FactSource;
  /** Evidence per fact path (empty for a hand-read oracle). */
  evidence: EvidenceMap;
  /** The series this version came from or was attached to (changelog, mail headers); null if none. */
  series: Series | null;
  /** What ran each file, when any ran from C (absent: the hand model ran everything). */
  ran?: RanFile[];
}

/**
 * What a finding means for the review, one meaning each: "introduced" (B raises it, A does not), "fixed" (A
 * raises it, B's cell ran and does not), "carried" (A and B raise it, mainline does not: still open) and
 * "pre-existing" (mainline raises it too). A scenario where either cell could not be run classifies nothing.
 */
export type FindingClass = "introduced" | "fixed" | "carried" | "pre-existing";

export interface ClassifiedFinding {
  scenario: string;
  kind: FindingKind;
  at: string;
  /** Detail as B reports it, else as A does. */
  detail: string;
  class: FindingClass;
  inA: boolean;
  inB: boolean;
  inMainline: boolean;
  /** Trace step at which it was raised in A / B (null when absent there). */
  stepA: number | null;
  stepB: number | null;
  /** For "carried": the oldest version of the chain (A, then the versions before it) that raises it too. */
  since?: string;
  /** The posted C statements that raised it (B's, else A's), when the cell ran that file from C. */
  sites?: { file: string; line: number }[];
}

/** The state of a run just before the traces part. */
export interface StateBefore {
  /** Trace steps both runs share before the divergence. */
  commonSteps: number;
  /** The last rproc state change seen ("RUNNING", "offline -> running", …), null if none yet. */
  rprocState: string | null;
  /** TA commands invoked so far (identical in both runs, since the prefix is common). */
  taCommands: string[];
  /** The last few common steps, oldest first. */
  context: TraceStep[];
}

export interface Divergence {
  /** Index of the first step that differs (equals the shorter trace's length when one is a prefix). */
  step: number;
  a: TraceStep | null;
  b: TraceStep | null;
  /** The posted C statement that made A's step, when C made it. */
  aAt?: { file: string; line: number };
  /** The posted C statement that made B's step, when C made it. */
  bAt?: { file: string; line: number };
  before: StateBefore;
}

/** One place where two traces part: steps [aStart, aEnd) of A and [bStart, bEnd) of B have no counterpart. */
export interface TraceHunk {
  aStart: number;
  aEnd: number;
  bStart: number;
  bEnd: number;
  /** The first few steps of each side of the hunk. */
  a: TraceStep[];
  b: TraceStep[];
}

export interface FactChange {
  path: FactPath;
  a: unknown;
  b: unknown;
  /** Evidence of the value in A and in B (empty when that side is a hand-read oracle or has none). */
  evidenceA: EvidenceItem[];
  evidenceB: EvidenceItem[];
  /** The value of A / B equals mainline's (only set when mainline was given). */
  aAsMainline?: boolean;
  bAsMainline?: boolean;
}

/** A fact responsible for a divergence: it differs between A and B and a diverging cell read it. */
export interface ResponsibleFact extends FactChange {
  readBy: ("a" | "b")[];
  /**
   * After attribution (attributeCauses): "changes-behaviour" when setting this fact alone back to A's value
   * changes B's run of the scenario; "untested" when that single change gives no valid design. Absent before.
   */
  effect?: "changes-behaviour" | "untested";
}

/** What one cell looked like, for the matrix. */
export interface CellSummary {
  applicable: boolean;
  reason: string | null;
  unknown: boolean;
  /** What made the cell unknown (unknown facts it read, changed code it ran). */
  unknownBecause: UnknownReason[];
  ok: boolean;
  errno: number;
  finalState: FinalState;
  tee: TaCommandName[];
  findings: { kind: FindingKind; at: string; detail: string; step: number }[];
  steps: number;
}

/** Outcome fields of a cell that can differ. */
export type CellField = "applicable" | "ok" | "errno" | "finalState" | "tee" | "findings" | "trace";

export type ScenarioStatus = "same" | "different" | "unknown" | "missing";

export interface ScenarioDiff {
  scenario: string;
  title: string;
  /**
   * "unknown": a cell could not be run as posted (it read a fact the mapper could not read, or ran code the
   * series changes in a way no fact describes); "missing": one side has no such cell.
   */
  status: ScenarioStatus;
  /** Why the scenario is unknown, for each side that could not be run; empty otherwise. */
  unknownBecause: (UnknownReason & { side: "a" | "b" })[];
  a: CellSummary | null;
  b: CellSummary | null;
  /** The outcome fields that differ (empty when same). */
  changed: CellField[];
  divergence: Divergence | null;
  /** Every place (up to a few) where the traces part, from an alignment of the two traces. */
  hunks: TraceHunk[];
  facts: ResponsibleFact[];
  /** After attribution: facts that differ and were read, but that change nothing when reverted alone. */
  inertFacts?: FactPath[];
  findings: ClassifiedFinding[];
}

export interface VersionRef {
  id: string;
  title: string;
  spec: string;
  factSource: FactSource;
  /** What ran each file, when any ran from C (absent: the hand model ran everything). */
  ran?: RanFile[];
}

export interface VersionDiff {
  a: VersionRef;
  b: VersionRef;
  /** The baseline used to call a finding pre-existing; null when no mainline cells were given. */
  mainline: VersionRef | null;
  scenarios: ScenarioDiff[];
  /** Every fact that differs between A and B, with evidence, whether a scenario read it or not. */
  factChanges: FactChange[];
  /** True when responsible facts were narrowed by re-running B with each one reverted (attributeCauses). */
  attributed?: boolean;
  /** Functions of A that B runs under another name, step for step (renamesOf); their findings are matched. */
  renames?: Rename[];
  counts: {
    same: number;
    different: number;
    unknown: number;
    missing: number;
    introduced: number;
    fixed: number;
    carried: number;
    preExisting: number;
  };
}

/** Where a note names something a difference's evidence names. */
export interface NoteMatch {
  scenario: string;
  /** The words of the note that matched ("rproc_tee_parse_fw", "spinlock"), lower case. */
  via: string[];
}

export interface CheckedNote {
  note: ChangelogNote;
  /** "cover" or "patch N: <subject>". */
  where: string;
  matches: NoteMatch[];
  /** Fact changes behind a behaviour difference that the note names. */
  facts: FactPath[];
}

export interface ChangelogCheck {
  /** False when B has no series (built-in id without mails): nothing could be checked. */
  available: boolean;
  /** Why it is not available, or what was read ("cover letter and 6 patches of v16"). */
  source: string;
  /** Notes with at least one visible behaviour difference. */
  withDifference: CheckedNote[];
  /** Notes no behaviour difference matches. */
  withoutDifference: CheckedNote[];
  /** Scenarios whose difference no note mentions. */
  unmentioned: string[];
  /** Fact changes behind behaviour differences that no note names, with the scenarios they change. */
  unmentionedFacts: { path: FactPath; scenarios: string[] }[];
}
