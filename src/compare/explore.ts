/**
 * The review's event-interleaving part: both versions explored to the same depth (every sequence of external
 * events, breadth-first, src/explore), and their findings compared by identity (kind, C function). A finding
 * only B raises is introduced, one only A raises is fixed; each keeps the shortest sequence that raises it
 * and the replay command that prints its trace.
 */
import type { Fixtures } from "../emulator/api.ts";
import {
  type Explorable,
  type ExploredFinding,
  type ExploreResult,
  explore,
  findingKey,
  RunMemo,
  reproduces,
} from "../explore/explore.ts";
import { replayCommand } from "../explore/report.ts";
import type { EventId } from "../explore/session.ts";
import type { FindingKind } from "../scenarios/result.ts";
import { canonicalJson } from "./diff.ts";

export interface ExploreFindingRef {
  kind: FindingKind;
  /** The C function the monitor names. */
  at: string;
  detail: string;
  /** A shortest sequence of events (after both drivers bind) that raises it. */
  events: EventId[];
  /** The command that prints its trace, on the version that raises it. */
  replay: string;
  /** Whether mainline raises the same finding with the same events ("inexpressible": TEE-only events). */
  mainline: "present" | "absent" | "inexpressible" | "not run";
}

export interface ExploreSideSummary {
  id: string;
  states: number;
  transitions: number;
  findings: number;
}

export interface ExploreDiff {
  depth: number;
  a: ExploreSideSummary;
  b: ExploreSideSummary;
  /** Raised by B, not by A (within the depth). */
  introduced: ExploreFindingRef[];
  /** Raised by A, not by B. */
  fixed: ExploreFindingRef[];
  /** Raised by both and not by mainline with the same events: still open in B. */
  carried: ExploreFindingRef[];
  /** Raised by both. */
  kept: number;
  /** Facts of A or B the mapper could not read: the exploration ran them with their baseline value. */
  unknownFacts: string[];
  /**
   * Why the exploration is not judged (it ran a design with facts or code the mapper could not read, at their
   * baseline values, so its findings are not the posted code's); null when it is.
   */
  unknown: string | null;
}

const key = (f: ExploredFinding): string => findingKey(f.finding);

function summary(r: ExploreResult): ExploreSideSummary {
  return { id: r.version, states: r.states, transitions: r.transitions, findings: r.findings.length };
}

/**
 * Explores A and B to `depth` and compares their findings; `mainline` classifies B's new ones. The exploration
 * runs the design facts over the hand model: `unknownFacts` and `unmodelled` (what the mapper could not read)
 * and `notRepresented` (why the facts' model is not the posted code: a file whose C did not run, cells where
 * the C that ran and the facts disagree) make it not judged.
 */
export async function compareExplorations(
  a: Explorable,
  b: Explorable,
  mainline: Explorable | null,
  fixtures: Fixtures,
  depth: number,
  unknownFacts: readonly string[] = [],
  unmodelled: readonly string[] = [],
  notRepresented: readonly string[] = [],
): Promise<ExploreDiff> {
  const ra = await explore(a, fixtures, { depth });
  // An exploration is a function of the design facts: the same code (a RESEND, an unchanged reroll) is not
  // explored twice.
  const same = canonicalJson(a.facts) === canonicalJson(b.facts);
  const rb = same ? { ...ra, version: b.id } : await explore(b, fixtures, { depth });
  const inA = new Set(ra.findings.map(key));
  const inB = new Set(rb.findings.map(key));
  const memo = new RunMemo(fixtures);
  const ref = async (f: ExploredFinding, on: Explorable): Promise<ExploreFindingRef> => {
    let onMainline: ExploreFindingRef["mainline"] = "not run";
    if (mainline !== null) {
      const there = await reproduces(mainline, f.events, f.finding, memo);
      onMainline = there === "inexpressible" ? there : there ? "present" : "absent";
    }
    return {
      kind: f.finding.kind,
      at: f.finding.at,
      detail: f.finding.detail,
      events: f.events,
      replay: replayCommand(on, f.events),
      mainline: onMainline,
    };
  };
  const introduced: ExploreFindingRef[] = [];
  for (const f of rb.findings) if (!inA.has(key(f))) introduced.push(await ref(f, b));
  const fixed: ExploreFindingRef[] = [];
  for (const f of ra.findings) if (!inB.has(key(f))) fixed.push(await ref(f, a));
  const carried: ExploreFindingRef[] = [];
  for (const f of rb.findings) {
    if (!inA.has(key(f))) continue;
    const r = await ref(f, b);
    if (r.mainline !== "present") carried.push(r);
  }
  const why: string[] = [];
  if (unknownFacts.length > 0) why.push(`facts the mapper could not read (${unknownFacts.join(", ")})`);
  if (unmodelled.length > 0)
    why.push(`functions changed in a way no fact describes (${unmodelled.join(", ")})`);
  return {
    depth,
    a: summary(ra),
    b: summary(rb),
    introduced,
    fixed,
    carried,
    kept: rb.findings.filter((f) => inA.has(key(f))).length,
    unknownFacts: [...unknownFacts],
    unknown:
      why.length > 0 || notRepresented.length > 0
        ? [
            ...(why.length > 0 ? [`it ran ${why.join(" and ")} as the model has them, not as posted`] : []),
            ...notRepresented,
          ].join("; ")
        : null,
  };
}
