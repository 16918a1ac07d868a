/**
 * Behavioural diff of two versions: per scenario, same or different; at the first divergence, the step in
 * both traces, the state before it and the design facts responsible (those that differ between the versions
 * and that a diverging cell read), with their evidence; findings classified as introduced, fixed, carried or
 * pre-existing. Pure: takes the cells, never runs anything, never looks at a version's name.
 */

import {
  baseRunDifferently,
  type CellResult,
  detailBehaviour,
  type Finding,
  sameImplementation,
  shortFileNames,
  stepKey,
  type TraceStep,
} from "../scenarios/result.ts";
import { FACT_PATHS, type FactPath, getFact } from "../semantics/facts.ts";
import { addedBy, asNamedInA, type Rename, renamesOf, stepAsInA } from "./renames.ts";
import type {
  CellField,
  CellSummary,
  ClassifiedFinding,
  Divergence,
  FactChange,
  ResponsibleFact,
  ScenarioDiff,
  TraceHunk,
  VersionDiff,
  VersionRef,
  VersionSide,
} from "./types.ts";

/** JSON with object keys sorted: equal values give equal strings whatever the key order. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return "undefined";
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>).sort(([x], [y]) =>
    x < y ? -1 : x > y ? 1 : 0,
  );
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

/** Two findings are the same when scenario, kind and `at` match. */
export function findingKey(scenario: string, f: Pick<Finding, "kind" | "at">): string {
  return `${scenario}\u0000${f.kind}\u0000${f.at}`;
}

export function summarizeCell(cell: CellResult): CellSummary {
  return {
    applicable: cell.applicable,
    reason: cell.reason ?? null,
    unknown: cell.unknown,
    unknownBecause: (cell.unknownBecause ?? []).map((r) => ({ ...r, files: [...r.files] })),
    ok: cell.ok,
    errno: cell.errno,
    finalState: cell.finalState,
    tee: [...cell.tee],
    findings: cell.findings.map((f) => ({ kind: f.kind, at: f.at, detail: f.detail, step: f.step })),
    steps: cell.trace.length,
  };
}

/** Facts whose values differ between two designs, in FACT_PATHS order. */
export function changedFacts(
  a: VersionSide,
  b: VersionSide,
  mainline: VersionSide | null = null,
): FactChange[] {
  const out: FactChange[] = [];
  for (const path of FACT_PATHS) {
    const va = canonicalJson(getFact(a.facts, path));
    const vb = canonicalJson(getFact(b.facts, path));
    if (va === vb) continue;
    const vm = mainline ? canonicalJson(getFact(mainline.facts, path)) : null;
    out.push({
      path,
      a: getFact(a.facts, path) ?? null,
      b: getFact(b.facts, path) ?? null,
      evidenceA: a.evidence[path] ?? [],
      evidenceB: b.evidence[path] ?? [],
      ...(vm === null ? {} : { aAsMainline: va === vm, bAsMainline: vb === vm }),
    });
  }
  return out;
}

const CONTEXT_STEPS = 3;

/** The first step at which two traces differ, with the state both runs were in; null when identical. */
export function firstDivergence(a: readonly TraceStep[], b: readonly TraceStep[]): Divergence | null {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && stepKey(a[i] as TraceStep) === stepKey(b[i] as TraceStep)) i++;
  if (i === a.length && i === b.length) return null;
  const prefix = a.slice(0, i);
  let rprocState: string | null = null;
  const taCommands: string[] = [];
  for (const s of prefix) {
    if (s.event === "state") rprocState = s.detail;
    if (s.layer === "ta" && (s.event === "invoke" || s.event === "call")) taCommands.push(s.fn);
  }
  return {
    step: i,
    a: a[i] ?? null,
    b: b[i] ?? null,
    before: { commonSteps: i, rprocState, taCommands, context: prefix.slice(-CONTEXT_STEPS) },
  };
}

/** The divergence with the posted C statements that made its two steps, where C made them. */
function withSites(d: Divergence | null, a: CellResult, b: CellResult): Divergence | null {
  if (d === null) return null;
  const at = (c: CellResult) => {
    const s = c.sites?.find((x) => x.step === d.step);
    return s === undefined ? undefined : { file: s.file, line: s.line };
  };
  const aAt = at(a);
  const bAt = at(b);
  return { ...d, ...(aAt ? { aAt } : {}), ...(bAt ? { bAt } : {}) };
}

/**
 * Numbers steps: two steps get the same number when their stepKey is the same (layer, function, event and
 * detail without line numbers). Keyed field by field, not by building each step's key string: a review
 * numbers thousands of steps, and the strings were a third of the alignment's time.
 */
function stepIds(): (t: TraceStep) => number {
  type Details = { raw: Map<string, number>; behaviour: Map<string, number> };
  const layers = new Map<string, Map<string, Map<string, Details>>>();
  let next = 0;
  return (t) => {
    let fns = layers.get(t.layer);
    if (fns === undefined) {
      fns = new Map();
      layers.set(t.layer, fns);
    }
    let events = fns.get(t.fn);
    if (events === undefined) {
      events = new Map();
      fns.set(t.fn, events);
    }
    let details = events.get(t.event);
    if (details === undefined) {
      details = { raw: new Map(), behaviour: new Map() };
      events.set(t.event, details);
    }
    let v = details.raw.get(t.detail);
    if (v === undefined) {
      const b = detailBehaviour(t.detail);
      v = details.behaviour.get(b);
      if (v === undefined) {
        v = next++;
        details.behaviour.set(b, v);
      }
      details.raw.set(t.detail, v);
    }
    return v;
  };
}

/** Cells beyond which the alignment table is not built (the first divergence is still given). */
const MAX_ALIGN_CELLS = 4_000_000;

/** Largest alignment table kept from call to call (cells); a larger one is made for its call only. */
const KEPT_ALIGN_CELLS = 1 << 20;
let keptTable = new Int32Array(0);

/**
 * A table of at least `cells` cells, of any content. traceHunks is synchronous, so one buffer serves every
 * call: a review aligns a pair of traces of hundreds of steps per differing scenario, and a fresh table of a
 * megabyte or so for each was a good part of the review's garbage.
 */
function alignTable(cells: number): Int32Array {
  if (cells > KEPT_ALIGN_CELLS) return new Int32Array(cells);
  if (keptTable.length < cells)
    keptTable = new Int32Array(Math.min(KEPT_ALIGN_CELLS, Math.max(cells, 2 * keptTable.length)));
  return keptTable;
}

/**
 * The places where two traces part, from a longest-common-subsequence alignment of their steps: each hunk is a
 * run of steps only A or only B has, between steps both share. At most `max` hunks, in trace order.
 */
export function traceHunks(a: readonly TraceStep[], b: readonly TraceStep[], max = 6): TraceHunk[] {
  // Steps as small integers (one id per distinct step), so the alignment compares numbers.
  const id = stepIds();
  const ka = Int32Array.from(a, id);
  const kb = Int32Array.from(b, id);
  // The shared head and tail align by themselves; only the middle needs the table.
  let head = 0;
  while (head < ka.length && head < kb.length && ka[head] === kb[head]) head++;
  let tail = 0;
  while (
    tail < ka.length - head &&
    tail < kb.length - head &&
    ka[ka.length - 1 - tail] === kb[kb.length - 1 - tail]
  )
    tail++;
  const n = ka.length - head - tail;
  const m = kb.length - head - tail;
  if ((n + 1) * (m + 1) > MAX_ALIGN_CELLS) return [];
  const ma = ka.subarray(head, head + n);
  const mb = kb.subarray(head, head + m);
  // lcs[i][j]: length of the LCS of ma[i..] and mb[j..]
  const w = m + 1;
  const lcs = alignTable((n + 1) * w);
  // Row n and column m are 0 (the buffer may hold an earlier call's table); every other cell is written.
  lcs.fill(0, n * w, n * w + w);
  for (let i = 0; i < n; i++) lcs[i * w + m] = 0;
  for (let i = n - 1; i >= 0; i--) {
    const row = i * w;
    const below = row + w;
    const x = ma[i];
    for (let j = m - 1; j >= 0; j--) {
      const down = lcs[below + j] as number;
      const right = lcs[row + j + 1] as number;
      lcs[row + j] = x === mb[j] ? (lcs[below + j + 1] as number) + 1 : Math.max(down, right);
    }
  }
  const hunks: TraceHunk[] = [];
  let i = 0;
  let j = 0;
  while ((i < n || j < m) && hunks.length < max) {
    if (i < n && j < m && ma[i] === mb[j]) {
      i++;
      j++;
      continue;
    }
    const start = { i, j };
    while ((i < n || j < m) && !(i < n && j < m && ma[i] === mb[j])) {
      if (j >= m || (i < n && (lcs[(i + 1) * w + j] as number) >= (lcs[i * w + j + 1] as number))) i++;
      else j++;
    }
    const h: TraceHunk = {
      aStart: head + start.i,
      aEnd: head + i,
      bStart: head + start.j,
      bEnd: head + j,
      a: [],
      b: [],
    };
    h.a = a.slice(h.aStart, Math.min(h.aEnd, h.aStart + HUNK_STEPS));
    h.b = b.slice(h.bStart, Math.min(h.bEnd, h.bStart + HUNK_STEPS));
    hunks.push(h);
  }
  return hunks;
}

/** Steps of each side kept per hunk. */
const HUNK_STEPS = 4;

/**
 * What differs between two cells. `traces`: false when the two sides ran different code for a file (one the
 * posted C, the other the hand model): their traces differ by construction (the C's own helpers, its
 * allocations' names), so only results, state, TA commands and findings are compared.
 */
function changedFields(
  a: CellResult,
  b: CellResult,
  traces = true,
  renames: readonly Rename[] = [],
): CellField[] {
  const nameInA = asNamedInA(renames);
  const asA = stepAsInA(renames);
  const out: CellField[] = [];
  if (a.applicable !== b.applicable) out.push("applicable");
  if (a.ok !== b.ok) out.push("ok");
  if (a.errno !== b.errno) out.push("errno");
  if (a.finalState !== b.finalState) out.push("finalState");
  if (a.tee.join(",") !== b.tee.join(",")) out.push("tee");
  const keys = (c: CellResult, name: (fn: string) => string) =>
    [...new Set(c.findings.map((f) => findingKey(c.scenario, { kind: f.kind, at: name(f.at) })))]
      .sort()
      .join("|");
  if (keys(a, (fn) => fn) !== keys(b, nameInA)) out.push("findings");
  if (
    traces &&
    (a.trace.length !== b.trace.length ||
      a.trace.some((s, i) => stepKey(s) !== stepKey(asA(b.trace[i] as TraceStep))))
  )
    out.push("trace");
  return out;
}

/** Whether a cell ran the posted design: present, and not unknown. An n/a cell is a known result. */
function known(c: CellResult | undefined): c is CellResult {
  return c !== undefined && !c.unknown;
}

/**
 * Findings of A, B and mainline for one scenario, each once, classified (FindingClass). Unknown is contagious:
 * when A's or B's cell could not be run as posted, nothing is classified, since neither a fix nor a new bug can
 * be told from a run that did not happen; nor when the scenario applies to one side only (n/a ran nothing).
 */
export function classifyFindings(
  scenario: string,
  a: CellResult | undefined,
  b: CellResult | undefined,
  mainline: CellResult | undefined,
  /** B's function names as A and mainline know them (renamesOf): a renamed function's findings are its own. */
  nameInA: (fn: string) => string = (fn) => fn,
): ClassifiedFinding[] {
  if (!known(a) || !known(b)) return [];
  // A scenario that does not apply to one side ran nothing there: the other side's findings are neither
  // fixed nor introduced by it (the matrix row says the applicability changed).
  if (a.applicable !== b.applicable) return [];
  const index = (c: CellResult | undefined, name: (fn: string) => string = (fn) => fn) => {
    const m = new Map<string, Finding>();
    for (const f of c?.applicable && !c.unknown ? c.findings : []) {
      const k = findingKey(scenario, { kind: f.kind, at: name(f.at) });
      if (!m.has(k)) m.set(k, f);
    }
    return m;
  };
  const fa = index(a);
  const fb = index(b, nameInA);
  const fm = index(mainline);
  const out: ClassifiedFinding[] = [];
  for (const key of new Set([...fb.keys(), ...fa.keys()])) {
    const inA = fa.has(key);
    const inB = fb.has(key);
    const inMainline = fm.has(key);
    const f = (fb.get(key) ?? fa.get(key)) as Finding;
    out.push({
      scenario,
      kind: f.kind,
      at: f.at,
      detail: f.detail,
      class: !inB ? "fixed" : inMainline ? "pre-existing" : inA ? "carried" : "introduced",
      inA,
      inB,
      inMainline,
      stepA: fa.get(key)?.step ?? null,
      stepB: fb.get(key)?.step ?? null,
      ...sitesOf(key, inB ? b : a, scenario, inB ? nameInA : (fn) => fn),
    });
  }
  return out;
}

/** The posted C statements that raised the findings of `key` in a cell (every one, in line order). */
function sitesOf(
  key: string,
  c: CellResult | undefined,
  scenario: string,
  name: (fn: string) => string,
): Pick<ClassifiedFinding, "sites"> {
  const sites = (c?.findings ?? [])
    .filter((f) => f.site !== undefined && findingKey(scenario, { kind: f.kind, at: name(f.at) }) === key)
    .map((f) => f.site as { file: string; line: number })
    .sort((x, y) => x.file.localeCompare(y.file) || x.line - y.line)
    .filter((x, i, all) => i === 0 || all[i - 1]?.file !== x.file || all[i - 1]?.line !== x.line);
  return sites.length > 0 ? { sites } : {};
}

/** Why a scenario is unknown: each side's reasons, prefixed with the side. */
function unknownBecause(
  a: CellResult | undefined,
  b: CellResult | undefined,
): ScenarioDiff["unknownBecause"] {
  const side = (name: "a" | "b", c: CellResult | undefined) =>
    c?.unknown
      ? (c.unknownBecause ?? [{ what: "the cell", files: [], why: "it could not be run as posted" }]).map(
          (r) => ({ ...r, side: name }),
        )
      : [];
  return [...side("a", a), ...side("b", b)];
}

/** Facts that differ between the designs and that the diverging cells read. */
export function responsibleFacts(
  changes: readonly FactChange[],
  a: CellResult | undefined,
  b: CellResult | undefined,
): ResponsibleFact[] {
  const readA = new Set<FactPath>(a?.factsRead ?? []);
  const readB = new Set<FactPath>(b?.factsRead ?? []);
  const out: ResponsibleFact[] = [];
  for (const c of changes) {
    const readBy: ("a" | "b")[] = [];
    if (readA.has(c.path)) readBy.push("a");
    if (readB.has(c.path)) readBy.push("b");
    if (readBy.length > 0) out.push({ ...c, readBy });
  }
  return out;
}

function ref(v: VersionSide): VersionRef {
  return {
    id: v.id,
    title: v.title,
    spec: v.spec,
    factSource: v.factSource,
    ...(v.ran ? { ran: v.ran.map((r) => ({ ...r })) } : {}),
  };
}

export interface CompareOptions {
  /** Mainline's cells: a finding already there is pre-existing, never blamed on the newer version. */
  mainline?: VersionSide | null;
  /** Scenario ids and titles in display order; default: the order of B's cells, then A's. */
  scenarios?: readonly { id: string; title: string }[];
  /** B's renames of A's functions, when the caller computed them already over these cells (renamesOf). */
  renames?: readonly Rename[];
}

/**
 * Why a scenario where A and B differ cannot be judged when they ran the kernel's own files on different
 * bases (baseRunDifferently: the tree's C on one side, the model kernel on the other): the difference may be
 * the base's (linux-6.12's core against the model's 6.15), not the series'. Null when both ran them alike.
 */
function incomparableBase(a: VersionSide, b: VersionSide): ScenarioDiff["unknownBecause"][number] | null {
  const files = baseRunDifferently(a.ran, b.ran);
  if (files.length === 0) return null;
  const names = (side: "a" | "b") => shortFileNames(files.filter((f) => f.fromC === side).map((f) => f.file));
  const ran = (["a", "b"] as const)
    .filter((side) => names(side).length > 0)
    .map((side) => {
      const [c, m] = side === "a" ? [a, b] : [b, a];
      return `${c.id} ran ${names(side).join(", ")} from C on the kernel tree, ${m.id} from the hand model`;
    });
  // What would put the model's side on the tree too: its mails, or, where it was on the tree and fell back
  // (a patch that did not apply there), a tree it applies to.
  const modelSides = [...new Set(files.map((f) => (f.fromC === "a" ? b : a)))];
  const remedy = modelSides.map((m) => {
    const fell = (m.ran ?? []).find((r) => r.fallback !== undefined && files.some((f) => f.file === r.file));
    return fell?.fallback !== undefined
      ? `${m.id} fell back to the model ${fell.fallback}`
      : `give ${m.id} as mails to run it on the same tree`;
  });
  return {
    what: `${shortFileNames(files.map((f) => f.file)).join(", ")} on two bases`,
    files: files.map((f) => f.file),
    why: `${ran.join("; ")}: a difference may be the base's, not the series' (${remedy.join("; ")})`,
    side: files[0]?.fromC ?? "b",
  };
}

/** Compares version A (older) with version B (newer), scenario by scenario. */
export function compareVersions(a: VersionSide, b: VersionSide, opts: CompareOptions = {}): VersionDiff {
  const mainline = opts.mainline ?? null;
  const byScenario = (v: VersionSide | null) => new Map((v?.cells ?? []).map((c) => [c.scenario, c]));
  const cellsA = byScenario(a);
  const cellsB = byScenario(b);
  const cellsM = byScenario(mainline);
  const order =
    opts.scenarios ??
    [...new Set([...b.cells.map((c) => c.scenario), ...a.cells.map((c) => c.scenario)])].map((id) => ({
      id,
      title: id,
    }));
  const facts = changedFacts(a, b, mainline);
  const renames = opts.renames ?? renamesOf(a.cells, b.cells, addedBy(b.series));
  const nameInA = asNamedInA(renames);
  const baseless = incomparableBase(a, b);
  const scenarios: ScenarioDiff[] = [];
  for (const { id, title } of order) {
    const ca = cellsA.get(id);
    const cb = cellsB.get(id);
    if (ca === undefined && cb === undefined) continue;
    const findings = classifyFindings(id, ca, cb, cellsM.get(id), nameInA);
    if (ca === undefined || cb === undefined) {
      scenarios.push({
        scenario: id,
        title,
        status: "missing",
        a: ca ? summarizeCell(ca) : null,
        b: cb ? summarizeCell(cb) : null,
        unknownBecause: unknownBecause(ca, cb),
        changed: [],
        divergence: null,
        hunks: [],
        facts: [],
        findings,
      });
      continue;
    }
    const changed = changedFields(ca, cb, sameImplementation(a.ran, b.ran), renames);
    const different = changed.length > 0;
    if (different && baseless !== null && !ca.unknown && !cb.unknown) {
      // A difference between a kernel tree's files and the model kernel's: not the series' to be judged on.
      scenarios.push({
        scenario: id,
        title,
        status: "unknown",
        unknownBecause: [baseless],
        a: summarizeCell(ca),
        b: summarizeCell(cb),
        changed,
        divergence: null,
        hunks: [],
        facts: [],
        findings: [],
      });
      continue;
    }
    scenarios.push({
      scenario: id,
      title,
      status: ca.unknown || cb.unknown ? "unknown" : different ? "different" : "same",
      unknownBecause: unknownBecause(ca, cb),
      a: summarizeCell(ca),
      b: summarizeCell(cb),
      changed,
      divergence: different ? withSites(firstDivergence(ca.trace, cb.trace), ca, cb) : null,
      hunks: different ? traceHunks(ca.trace, cb.trace) : [],
      facts: different ? responsibleFacts(facts, ca, cb) : [],
      findings,
    });
  }
  const all = scenarios.flatMap((s) => s.findings);
  const count = (status: ScenarioDiff["status"]) => scenarios.filter((s) => s.status === status).length;
  return {
    a: ref(a),
    b: ref(b),
    mainline: mainline ? ref(mainline) : null,
    scenarios,
    factChanges: facts,
    ...(renames.length > 0 ? { renames: [...renames] } : {}),
    counts: {
      same: count("same"),
      different: count("different"),
      unknown: count("unknown"),
      missing: count("missing"),
      introduced: all.filter((f) => f.class === "introduced").length,
      fixed: all.filter((f) => f.class === "fixed").length,
      carried: all.filter((f) => f.class === "carried").length,
      preExisting: all.filter((f) => f.class === "pre-existing").length,
    },
  };
}
