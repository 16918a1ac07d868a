/**
 * Which of the facts a diverging cell read actually matter: for each responsible fact, B's design is run again
 * with that one fact set back to A's value. If the scenario's outcome or trace moves, the fact is a cause
 * ("changes-behaviour"); if nothing moves, it was read but is inert on its own in this scenario; if the
 * single change makes no valid design (facts that only exist together: the schema or the model refuses it),
 * it stays responsible, "untested".
 */
import type { CellResult } from "../scenarios/result.ts";
import { applyFactChanges, type DesignFacts, type FactPath } from "../semantics/facts.ts";
import type { ResponsibleFact, ScenarioDiff, VersionDiff, VersionSide } from "./types.ts";

/**
 * Runs one scenario on a design; the CLI passes runScenario over the emulator. Given `expect` (the trace it
 * is compared with), a runner may stop at the first step that differs and return the trace up to there.
 */
export type CellRunner = (
  facts: DesignFacts,
  scenario: string,
  expect?: readonly CellResult["trace"][number][],
) => Promise<CellResult>;

/** What a scenario's outcome is compared by: result, state, TA commands, findings (kind, place) and trace. */
function sameOutcome(x: CellResult, y: CellResult): boolean {
  if (
    x.applicable !== y.applicable ||
    x.ok !== y.ok ||
    x.errno !== y.errno ||
    x.finalState !== y.finalState ||
    x.tee.length !== y.tee.length ||
    x.findings.length !== y.findings.length ||
    x.trace.length !== y.trace.length
  )
    return false;
  if (x.tee.some((t, i) => t !== y.tee[i])) return false;
  const places = (c: CellResult) =>
    c.findings
      .map((f) => `${f.kind}\u0000${f.at}`)
      .sort()
      .join("\u0001");
  if (places(x) !== places(y)) return false;
  // Step by step, field by field: traces run to hundreds of steps and are compared for every fact.
  for (let i = 0; i < x.trace.length; i++) {
    const a = x.trace[i] as CellResult["trace"][number];
    const b = y.trace[i] as CellResult["trace"][number];
    if (a.layer !== b.layer || a.fn !== b.fn || a.event !== b.event || a.detail !== b.detail) return false;
  }
  return true;
}

/** B's facts with one fact set back to A's value, validated once per fact for all scenarios. */
type Reverted = (f: ResponsibleFact) => ReturnType<typeof applyFactChanges>;

function revertedFacts(b: VersionSide): Reverted {
  const cache = new Map<FactPath, ReturnType<typeof applyFactChanges>>();
  return (f) => {
    let r = cache.get(f.path);
    if (r === undefined) {
      const value = f.path === "tee" ? f.a !== false && f.a !== null : f.a;
      r = applyFactChanges(b.facts, { [f.path]: value });
      cache.set(f.path, r);
    }
    return r;
  };
}

async function attributeScenario(
  s: ScenarioDiff,
  b: VersionSide,
  run: CellRunner,
  reverted: Reverted,
): Promise<{ facts: ResponsibleFact[]; inert: FactPath[] }> {
  const cellB = b.cells.find((c) => c.scenario === s.scenario);
  if (!cellB || s.facts.length === 0) return { facts: s.facts, inert: [] };
  const facts: ResponsibleFact[] = [];
  const inert: FactPath[] = [];
  const readByB = new Set(cellB.factsRead);
  for (const f of s.facts) {
    const changed = reverted(f);
    if (changed.errors.length > 0) {
      facts.push({ ...f, effect: "untested" });
      continue;
    }
    // B's run never read it (only A's did): a run reads facts only through its design and is deterministic,
    // so B with this one fact set back runs exactly as B did. Inert, known without running it again.
    if (!readByB.has(f.path)) {
      inert.push(f.path);
      continue;
    }
    let result: CellResult;
    try {
      result = await run(changed.facts, s.scenario, cellB.trace);
    } catch {
      // The model refuses the combination (e.g. a core without rproc_pa_to_va under a driver that calls it):
      // this fact cannot be reverted alone, so it stays responsible, untested.
      facts.push({ ...f, effect: "untested" });
      continue;
    }
    if (!sameOutcome(result, cellB)) facts.push({ ...f, effect: "changes-behaviour" });
    else inert.push(f.path);
  }
  return { facts, inert };
}

/**
 * Narrows each differing scenario's responsible facts to those that change its behaviour when set back to A's
 * value alone (or that cannot be tested alone). Returns a new diff; counts are unchanged.
 */
export async function attributeCauses(
  diff: VersionDiff,
  b: VersionSide,
  run: CellRunner,
): Promise<VersionDiff> {
  const scenarios: ScenarioDiff[] = [];
  const reverted = revertedFacts(b);
  for (const s of diff.scenarios) {
    if (s.status !== "different") {
      scenarios.push(s);
      continue;
    }
    const { facts, inert } = await attributeScenario(s, b, run, reverted);
    scenarios.push({ ...s, facts, inertFacts: inert });
  }
  return { ...diff, scenarios, attributed: true };
}
