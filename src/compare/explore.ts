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
import { type FindingKind, siteText } from "../scenarios/result.ts";
import type { FactPath } from "../semantics/facts.ts";
import { canonicalJson } from "./diff.ts";

export interface ExploreFindingRef {
  kind: FindingKind;
  /** The C function the monitor names. */
  at: string;
  detail: string;
  /** The posted C statement that raised it, when the side ran from C. */
  site?: { file: string; line: number };
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
  /**
   * Whether the side was explored on its posted C (as its matrix cells ran it), not its facts' model (absent
   * in reports made before explorations ran C: the model).
   */
  fromC?: boolean;
}

/** A side explored on its C, and the same side's facts explored over the hand model, to the same depth. */
export interface ModelAgreement {
  id: string;
  /** Raised by the C within the depth, not by the facts' model (kind in C function, shortest sequence). */
  onlyC: ExploreFindingRef[];
  /** Raised by the facts' model, not by the C: the model's exploration would have claimed them. */
  onlyModel: ExploreFindingRef[];
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
   * Per side explored on its C: where the exploration of its facts over the hand model finds otherwise (both
   * lists empty: they agree). The C's findings are the verdict; these say what the facts do not explain.
   * Absent in reports made before explorations ran C.
   */
  model?: ModelAgreement[];
  /**
   * Why the exploration is not judged (it ran a design with facts or code the mapper could not read, at their
   * baseline values, so its findings are not the posted code's); null when it is.
   */
  unknown: string | null;
}

const key = (f: ExploredFinding): string => findingKey(f.finding);

function summary(r: ExploreResult): ExploreSideSummary {
  return {
    id: r.version,
    states: r.states,
    transitions: r.transitions,
    findings: r.findings.length,
    fromC: r.fromC,
  };
}

/** The facts' model of a design that runs C: the same design with every file the hand model's. */
const modelOf = (d: Explorable): Explorable => ({
  id: d.id,
  facts: d.facts,
  ...(d.replayAs === undefined ? {} : { replayAs: d.replayAs }),
});

/** What stopped a C exploration, for the `unknown` of the comparison; null when nothing did. */
function stoppedNote(r: ExploreResult): string | null {
  const first = r.stopped[0];
  if (first === undefined) return null;
  const at = first.reason.at === undefined ? "" : ` at ${siteText(first.reason.at)}`;
  const seq = first.events.length === 0 ? "binding the drivers" : first.events.join(",");
  return `${r.version}'s posted C stopped in ${r.stopped.length} explored sequence${r.stopped.length === 1 ? "" : "s"} (first: ${seq}${at}: ${first.reason.what}), so what lies past them was not searched`;
}

/**
 * Explores A and B to `depth` and compares their findings; `mainline` classifies B's new ones. A side with
 * posted C (`tee`, `stm32`) is explored on it, as its matrix cells ran, and its facts over the hand model too,
 * to say where they find otherwise (`model`); a side without runs its facts over the hand model.
 * `unknownFacts` and `unmodelled` (what the mapper could not read, for the files the hand model ran) and
 * `notRepresented` (why what was explored is not the posted code: a file of the series whose C did not run,
 * which the hand model stands in for) make it not judged, and so does a C exploration that stopped (an API or
 * construct the interpreter lacks).
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
  /** B's function names as A knows them (renamesOf over the matrix cells): a renamed function's findings. */
  nameInA: (fn: string) => string = (fn) => fn,
): Promise<ExploreDiff> {
  const ra = await explore(a, fixtures, { depth });
  // An exploration is a function of the design facts and the C it runs: the same code (a RESEND, an
  // unchanged reroll) is not explored twice.
  const same = a.tee === b.tee && a.stm32 === b.stm32 && canonicalJson(a.facts) === canonicalJson(b.facts);
  const rb = same ? { ...ra, version: b.id } : await explore(b, fixtures, { depth });
  const keyB = (f: ExploredFinding) => key({ ...f, finding: { ...f.finding, at: nameInA(f.finding.at) } });
  const inA = new Set(ra.findings.map(key));
  const inB = new Set(rb.findings.map(keyB));
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
      ...(f.finding.site === undefined ? {} : { site: f.finding.site }),
      events: f.events,
      replay: replayCommand(on, f.events),
      mainline: onMainline,
    };
  };
  const introduced: ExploreFindingRef[] = [];
  for (const f of rb.findings) if (!inA.has(keyB(f))) introduced.push(await ref(f, b));
  const fixed: ExploreFindingRef[] = [];
  for (const f of ra.findings) if (!inB.has(key(f))) fixed.push(await ref(f, a));
  const carried: ExploreFindingRef[] = [];
  for (const f of rb.findings) {
    if (!inA.has(keyB(f))) continue;
    const r = await ref(f, b);
    if (r.mainline !== "present") carried.push(r);
  }
  // A side explored on its C: its facts over the hand model, to the same depth, for what they do not explain.
  const model: ModelAgreement[] = [];
  for (const [side, r] of same
    ? ([[b, rb]] as const)
    : ([
        [a, ra],
        [b, rb],
      ] as const)) {
    if (!r.fromC) continue;
    const m = await explore(modelOf(side), fixtures, { depth });
    const inC = new Set(r.findings.map(key));
    const inM = new Set(m.findings.map(key));
    const onlyC: ExploreFindingRef[] = [];
    for (const f of r.findings) if (!inM.has(key(f))) onlyC.push(await ref(f, side));
    const onlyModel: ExploreFindingRef[] = [];
    for (const f of m.findings) if (!inC.has(key(f))) onlyModel.push(await ref(f, modelOf(side)));
    model.push({ id: side.id, onlyC, onlyModel });
  }
  // Facts the mapper could not read count where a side's search read them: any, for a search of the facts'
  // model; those the hand model's files around the C read, for a search of posted C.
  const sides = same ? [ra] : [ra, rb];
  const unread = unknownFacts.filter((f) =>
    sides.some((r) => r.factsRead === null || r.factsRead.includes(f as FactPath)),
  );
  const why: string[] = [];
  if (unread.length > 0) why.push(`facts the mapper could not read (${unread.join(", ")})`);
  if (unmodelled.length > 0)
    why.push(`functions changed in a way no fact describes (${unmodelled.join(", ")})`);
  return {
    depth,
    a: summary(ra),
    b: summary(rb),
    introduced,
    fixed,
    carried,
    kept: rb.findings.filter((f) => inA.has(keyB(f))).length,
    unknownFacts: unread,
    model,
    unknown: (() => {
      const stops = (same ? [ra] : [ra, rb]).map(stoppedNote).filter((x) => x !== null);
      const all = [
        ...(why.length > 0 ? [`it ran ${why.join(" and ")} as the model has them, not as posted`] : []),
        ...notRepresented,
        ...stops,
      ];
      return all.length > 0 ? all.join("; ") : null;
    })(),
  };
}
