/**
 * One review, as every front end runs it (`diff`, `review`, `b4-check`, the GitHub bot, the mail bot): run the
 * matrix for A, B and mainline (pre-existing findings), build both sides, attribute each difference by
 * re-running B with single facts set back, explore both versions' event interleavings, and build the report.
 * Workers-safe: the caller resolves versions (built-in ids, mapped series) and passes them in.
 */

import type { CellRunner } from "../compare/attribute.ts";
import { compareExplorations, type ExploreFindingRef, type ModelAgreement } from "../compare/explore.ts";
import { compareInterleavings, type InterleaveSubject } from "../compare/interleave.ts";
import { addedBy, asNamedInA, renamesOf } from "../compare/renames.ts";
import { builtinSide, cellsOf, type MappedFacts, seriesSide } from "../compare/sides.ts";
import type { VersionSide } from "../compare/types.ts";
import { loadFixtures } from "../emulator/api.ts";
import type { Explorable } from "../explore/explore.ts";
import {
  baseRunDifferently,
  type CellResult,
  describeRan,
  ranWarnings,
  sameImplementation,
  shortFileNames,
} from "../scenarios/result.ts";
import { type Design, runMatrix, runScenario, type UnmodelledCode } from "../scenarios/run.ts";
import type { TeeDriverImpl } from "../scenarios/world.ts";
import { FACT_PATHS } from "../semantics/facts.ts";
import { environmentOf, isBuildFile, STOOD_FOR_FILES } from "../semantics/map/derive.ts";
import type { MapResult } from "../semantics/map/types.ts";
import { BUILTIN_VERSIONS, type BuiltinVersion, MAINLINE, MODEL_KERNEL } from "../semantics/versions.ts";
import type { Series } from "../series/types.ts";
import { shellWord } from "../shell.ts";
import { REVIEW_EXPLORE_DEPTH, REVIEW_EXPLORE_DEPTH_C, REVIEW_INTERLEAVE_DEPTH } from "./depth.ts";
import { type ReviewReport, reviewVersions } from "./report.ts";

export { REVIEW_EXPLORE_DEPTH, REVIEW_EXPLORE_DEPTH_C, REVIEW_INTERLEAVE_DEPTH };

/** A version ready to be run and compared: its design, and how to build its side from its cells. */
export interface ReviewSubject {
  design: Design;
  /** The series it came from or was attached to (changelog, mail headers), if any. */
  series: Series | null;
  /** What the mapper read, when the version came from a series. */
  mapped: MapResult | null;
  /** Its side of a comparison, under the id its design ran with (made unique by runReview). */
  side: (cells: VersionSide["cells"], id: string) => VersionSide;
  /** The arguments a replay command names it with (`--version <id or input>`). */
  replayAs: string;
}

/**
 * A subject with what runs from the series' C (src/interp/env/series.ts seriesCDesign): its TEE driver and
 * the files that ran from C (its side's `ran:` lines), and its header's CONFIG_REMOTEPROC_TEE=n stubs.
 */
export function withC(
  subject: ReviewSubject,
  c: Pick<Design, "tee" | "teeStubs" | "stm32" | "ran">,
): ReviewSubject {
  const design: Design = { ...subject.design };
  if (c.teeStubs !== undefined) design.teeStubs = c.teeStubs;
  if (c.stm32 !== undefined) design.stm32 = c.stm32;
  if (c.tee === undefined && c.stm32 === undefined && c.ran === undefined) return { ...subject, design };
  if (c.tee !== undefined) design.tee = c.tee;
  const ran = [...(c.ran ?? [])];
  if (c.ran !== undefined) design.ran = ran;
  const side = subject.side;
  return { ...subject, design, side: (cells, id) => ({ ...side(cells, id), ran }) };
}

/** A built-in version; `mapped` is the mapper's stored reading of its mails (evidence), `series` its mails. */
export function builtinSubject(
  v: BuiltinVersion,
  mapped: MappedFacts | null = null,
  series: Series | null = null,
): ReviewSubject {
  return {
    design: { id: v.id, title: v.title, facts: v.facts },
    series,
    mapped: null,
    side: (cells, id) => builtinSide(v, cells, { mapped, series, designId: id }),
    replayAs: `--version ${v.id}`,
  };
}

/**
 * The design a mapped series runs as: its facts, those the mapper could not read (with why), and the changed
 * functions no fact describes (a cell that calls one is unknown).
 */
export function mappedDesign(id: string, title: string, mapped: MapResult): Design {
  return {
    id,
    title,
    facts: mapped.facts,
    unknownFacts: FACT_PATHS.filter((p) => mapped.status[p] === "unknown"),
    unknownWhy: mapped.unknownWhy ?? {},
    unmodelled: (mapped.unmodelledInBase ?? []).flatMap((u): UnmodelledCode[] => {
      const environment = environmentOf(u.file);
      // A file the environment stands for never runs and its APIs leave no call step: any cell may run it.
      if (environment !== null)
        return [
          {
            file: u.file,
            function: u.function ?? `${u.file}:${u.line}`,
            line: u.line,
            summary: u.summary,
            data: u.function === null || u.data === true,
            environment,
          },
        ];
      if (u.function === null)
        // Where the mapper cannot name the function of a file the model stands for (a hunk without its
        // header's context), any code of the file may run the line: it counts as data there.
        return STOOD_FOR_FILES.includes(u.file)
          ? [{ file: u.file, function: `${u.file}:${u.line}`, line: u.line, summary: u.summary, data: true }]
          : [];
      return [
        {
          file: u.file,
          function: u.function,
          line: u.line,
          summary: u.summary,
          ...(u.data === true ? { data: true } : {}),
        },
      ];
    }),
  };
}

/** A series read by the mapper; `spec` is how the user named it (an input, a label). */
export function seriesSubject(
  series: Series,
  mapped: MapResult,
  spec: string,
  id = series.id,
): ReviewSubject {
  return {
    design: mappedDesign(id, series.title, mapped),
    series,
    mapped,
    side: (cells, designId) => seriesSide(series, mapped, cells, { spec, designId }),
    replayAs: `--version ${shellWord(spec)}`,
  };
}

export interface ReviewRunOptions {
  scenarios?: readonly string[];
  notes?: string[];
  /**
   * Longest event sequence the review explores on both versions (0: no exploration). Default
   * REVIEW_EXPLORE_DEPTH, or REVIEW_EXPLORE_DEPTH_C when a side runs posted C (explored on its C).
   */
  exploreDepth?: number;
  /**
   * Scheduling choices the review searches in the interleaving scenarios on A, B and mainline (default
   * REVIEW_INTERLEAVE_DEPTH, as every front end reviews; 0: none).
   */
  interleaveDepth?: number;
  /**
   * The kernel tree a side's STM32 driver ran from (`--kernel-tree`), for the interleavings' replay commands:
   * a side whose stm32_rproc.c ran from C replays on it.
   */
  kernelTree?: string;
  /** The inputs ran with the hand model (`--model-only`): their interleavings' replay commands say so. */
  modelOnly?: boolean;
  /** Why A is the version compared with, for the report ("the version it follows: …"); default "given". */
  comparisonWhy?: string;
  /**
   * Versions before A in its chain, newest first, to name the version a carried finding dates from. Default:
   * when A is a built-in version, the built-in versions before it (mainline excluded).
   */
  history?: readonly ReviewSubject[];
  /**
   * The CONFIG_REMOTEPROC_TEE=n stubs of a built-in version's posted header, for the built-in versions the
   * review runs on its own (the history of a carried finding): without them their config cells are unknown.
   */
  builtinStubs?: (id: string) => Promise<TeeDriverImpl>;
  /**
   * The baseline for pre-existing findings when neither side is mainline (default: the built-in mainline over
   * the hand model): the kernel tree the sides ran from, without the series (node/versions.ts treeMainline).
   */
  mainline?: ReviewSubject | null;
}

/** The built-in versions before a built-in A, newest first (mainline excluded); none for any other A. */
async function builtinHistory(
  a: ReviewSubject,
  stubs: ReviewRunOptions["builtinStubs"],
): Promise<ReviewSubject[]> {
  const at = BUILTIN_VERSIONS.findIndex((v) => v.facts === a.design.facts && v.id === a.design.id);
  if (at <= 0) return [];
  const out: ReviewSubject[] = [];
  for (const v of BUILTIN_VERSIONS.slice(0, at)
    .filter((x) => x.facts !== MAINLINE)
    .reverse()) {
    const s = builtinSubject(v);
    out.push(stubs === undefined ? s : withC(s, { teeStubs: await stubs(v.id) }));
  }
  return out;
}

/** Scenarios in which A and B raise the same finding: the only ones a carried finding can come from. */
function sharedFindingScenarios(results: readonly CellResult[], a: string, b: string): string[] {
  const out: string[] = [];
  for (const ca of results.filter((c) => c.version === a)) {
    const cb = results.find((c) => c.version === b && c.scenario === ca.scenario);
    if (cb && ca.findings.some((f) => cb.findings.some((g) => g.kind === f.kind && g.at === f.at)))
      out.push(ca.scenario);
  }
  return out;
}

/** A design with every file run by the hand model (what its facts say), same id. */
function modelOf(d: Design): Design {
  const { tee: _tee, stm32: _stm32, ran: _ran, ...model } = d;
  return model;
}

/** What a cell's outcome is, for telling the C and the facts' model apart. */
function outcomeOf(c: CellResult): string {
  if (c.unknown) return "unknown";
  const res = !c.applicable ? "n/a" : c.ok ? "ok" : `errno ${c.errno}`;
  const findings = [...new Set(c.findings.map((f) => `${f.kind} in ${f.at}`))].sort();
  return `${res}, ${c.finalState}, TA ${c.tee.join(" ") || "none"}${findings.length > 0 ? `, ${findings.join("; ")}` : ""}`;
}

/**
 * The note saying where what ran from C differs from what the design's facts give over the hand model (the
 * facts cannot explain those cells): the scenarios, and the first one's two outcomes. None when they agree.
 */
/** Whether a design runs a driver from C (the posted TEE driver, a kernel tree's STM32 driver). */
function fromC(d: Design): boolean {
  return d.tee !== undefined || d.stm32 !== undefined;
}

function disagreements(d: Design, ran: readonly CellResult[], model: readonly CellResult[]): string[] {
  const files = [
    ...new Set((d.ran ?? []).filter((r) => r.from === "C" && r.file.endsWith(".c")).map((r) => r.file)),
  ];
  const differ: { scenario: string; c: string; m: string }[] = [];
  for (const c of ran) {
    const m = model.find((x) => x.scenario === c.scenario);
    if (c.unknown || m === undefined || m.unknown) continue;
    const x = outcomeOf(c);
    const y = outcomeOf(m);
    if (x !== y) differ.push({ scenario: c.scenario, c: x, m: y });
  }
  const first = differ[0];
  if (first === undefined) return [];
  return [
    `${d.id}: the design facts read from the diff do not explain what ran in ${differ.length} scenario${differ.length === 1 ? "" : "s"} (${differ.map((x) => x.scenario).join(", ")}): the C decides them and no fact is named for the difference; ${first.scenario}: ${files.join(", ")} from C gives ${first.c}, the facts over the hand model ${first.m}`,
  ];
}

/**
 * The note saying where the exploration of a side's facts over the hand model and that of its C find
 * otherwise (the C's findings are the exploration's verdict); null when they agree.
 */
function modelDisagreement(m: ModelAgreement, depth: number): string | null {
  if (m.onlyC.length === 0 && m.onlyModel.length === 0) return null;
  const one = (f: ExploreFindingRef) =>
    `${f.kind} in ${f.at}${f.site === undefined ? "" : ` (${f.site.file}:${f.site.line})`} (${f.events.length === 0 ? "no event" : f.events.join(",")})`;
  const parts: string[] = [];
  if (m.onlyC.length > 0) parts.push(`only its C raises ${m.onlyC.map(one).join("; ")}`);
  if (m.onlyModel.length > 0)
    parts.push(`only its facts over the hand model raise ${m.onlyModel.map(one).join("; ")}`);
  return `${m.id}: the exploration of its C and that of its design facts over the hand model disagree (depth ${depth}): ${parts.join("; ")}; the C's is the one compared`;
}

/**
 * The word on a series' base where the hand model ran some of its files: those are the model kernel's
 * (MODEL_KERNEL), whatever the series is based on; none when the series names that kernel as its base, or
 * names none (every report says so where it names the base).
 */
function baseNote(s: ReviewSubject): string | null {
  const base = s.series?.base ?? null;
  if (base === null) return null; // the reports say the series names no base commit
  const model = (s.design.ran ?? []).filter((r) => r.from === "model").map((r) => r.file);
  if (s.design.ran !== undefined && model.length === 0) return null;
  const { name, commit } = MODEL_KERNEL;
  if (base.startsWith(commit) || commit.startsWith(base)) return null;
  const files = model.length > 0 ? shortFileNames(model).join(", ") : "every file";
  return `${s.design.id}: based on ${base.slice(0, 12)}, but the hand model's files (${files}) are ${name}'s`;
}

/**
 * A side as the interleavings run it: its design with the C its cells ran, named for replay; a file of the
 * series whose C did not run makes its interleavings not judged (the model would stand in for it).
 */
function interleaveSubject(
  s: ReviewSubject,
  kernelTree: string | undefined,
  modelOnly: boolean,
): InterleaveSubject {
  const tree =
    s.design.stm32 !== undefined && kernelTree !== undefined ? ` --kernel-tree ${shellWord(kernelTree)}` : "";
  // A series input the review ran with the hand model replays with it too (a built-in id always does).
  const model = modelOnly && s.mapped !== null ? " --model-only" : "";
  return {
    design: s.design,
    replayAs: `${s.replayAs}${tree}${model}`,
    notRepresented: (s.design.ran ?? [])
      .filter((r) => r.from === "not run")
      .map((r) => `${s.design.id}'s ${shortFileNames([r.file]).join("")} did not run from C`),
  };
}

export interface ReviewRun {
  report: ReviewReport;
  /** Every cell that ran (A, B and the mainline baseline). */
  cells: CellResult[];
}

/**
 * Runs the matrix for A, B and mainline (for pre-existing findings) and builds the review report. Design ids
 * are made unique (an input of version v16 against built-in v16).
 */
export async function runReview(
  a: ReviewSubject,
  b: ReviewSubject,
  opts: ReviewRunOptions = {},
): Promise<ReviewRun> {
  if (b.design.id === a.design.id) b.design = { ...b.design, id: `${b.design.id} (B)` };
  let mainline: ReviewSubject | null = null;
  if (a.design.facts === MAINLINE) mainline = a;
  else if (b.design.facts === MAINLINE) mainline = b;
  else if (opts.mainline) mainline = opts.mainline;
  else {
    const base = BUILTIN_VERSIONS.find((v) => v.facts === MAINLINE);
    if (base) mainline = builtinSubject(base);
  }
  const designs = [a.design, b.design];
  if (mainline && mainline !== a && mainline !== b) {
    if (designs.some((d) => d.id === mainline.design.id))
      mainline.design = { ...mainline.design, id: `${mainline.design.id} (baseline)` };
    designs.push(mainline.design);
  }
  const matrix = await runMatrix(designs, opts.scenarios ? [...opts.scenarios] : undefined);
  const side = (s: ReviewSubject) => s.side(cellsOf(matrix.results, s.design.id), s.design.id);
  const sa = side(a);
  const sb = side(b);
  // B's function names as A knows them, where B renamed one (the compare matches findings across it).
  const renames = renamesOf(sa.cells, sb.cells, addedBy(sb.series));
  const nameInA = asNamedInA(renames);
  const fixtures = await loadFixtures();
  // The facts explain, the C decides: a side that ran a file from C is explained by its facts over the hand
  // model (attribution reverts facts there), and every cell where the two disagree is said in the report.
  const notes = [...(opts.notes ?? [])];
  // A baseline the review was given (the kernel tree without the series): what ran there.
  if (mainline !== null && mainline !== a && mainline !== b && mainline.design.ran !== undefined)
    notes.push(
      `${mainline.design.id} (the baseline: ${mainline.design.title}): ${describeRan(mainline.design.ran)}`,
    );
  for (const s of a === b ? [a] : [a, b]) {
    const n = baseNote(s);
    if (n !== null) notes.push(n);
    for (const w of ranWarnings(s.design.ran)) notes.push(`${s.design.id}: ${w}`);
  }
  /**
   * Why the exploration is not the posted code. It runs each side's C where its cells did (so neither cells
   * where the C and its facts' model disagree nor cells where the C stopped make it the model's: its own
   * stops are its own `unknown`), but a file of the series that did not run from C is the model's there too.
   */
  const notExplored: string[] = [];
  const explained = new Map<ReviewSubject, VersionSide>();
  for (const s of [a, b]) {
    if (!fromC(s.design) || explained.has(s)) continue;
    const model = modelOf(s.design);
    const m = await runMatrix([model], opts.scenarios ? [...opts.scenarios] : undefined);
    const cells = m.results.map((c) => ({ ...c, version: s.design.id }));
    explained.set(s, s.side(cells, s.design.id));
    const differ = disagreements(s.design, cellsOf(matrix.results, s.design.id), cells);
    notes.push(...differ);
  }
  // A file of the series that did not run (its C did not come with the job, did not lower, or has no hand
  // model): the hand model stands in for it in the exploration too, for code nobody ran.
  for (const s of [a, b].filter((x) => fromC(x.design)))
    for (const r of s.design.ran ?? [])
      if (r.from === "not run")
        notExplored.push(`${s.design.id}'s ${shortFileNames([r.file]).join("")} did not run from C`);
  // The kernel's own files on two bases (a tree's C, the model kernel): a finding on one side only may be the
  // base's, as in the matrix (compareVersions), so the exploration is not judged either.
  const bases = baseRunDifferently(a.design.ran, b.design.ran);
  if (bases.length > 0)
    notExplored.push(
      `${shortFileNames(bases.map((f) => f.file)).join(", ")} ran on two bases (a kernel tree's C on one side, the hand model on the other)`,
    );
  const bExplained = explained.get(b);
  const run: CellRunner = (facts, scenario, expect) =>
    runScenario({ ...modelOf(b.design), facts }, scenario, fixtures, expect ? { expect } : {});
  const shared = sharedFindingScenarios(matrix.results, a.design.id, b.design.id);
  const history: { id: string; cells: CellResult[] }[] = [];
  if (shared.length > 0)
    for (const h of opts.history ?? (await builtinHistory(a, opts.builtinStubs))) {
      const m = await runMatrix([{ ...h.design, id: `${h.design.id} (history)` }], shared);
      history.push({ id: h.design.id, cells: m.results });
    }
  const anyC = fromC(a.design) || fromC(b.design);
  const depth = opts.exploreDepth ?? (anyC ? REVIEW_EXPLORE_DEPTH_C : REVIEW_EXPLORE_DEPTH);
  // A side explored on what its cells ran: its posted C where it has some (the TEE driver; a tree's drivers).
  const explorable = (s: ReviewSubject): Explorable => ({
    id: s.design.id,
    facts: s.design.facts,
    replayAs: s.replayAs,
    ...(s.design.tee === undefined ? {} : { tee: s.design.tee }),
    ...(s.design.stm32 === undefined ? {} : { stm32: s.design.stm32 }),
  });
  // A changed function no fact describes counts against the exploration only where the hand model ran its file.
  const unmodelledOf = (s: ReviewSubject): string[] =>
    (s.design.unmodelled ?? [])
      .filter((u) => !(s.design.ran ?? []).some((r) => r.file === u.file && r.from === "C"))
      .map((u) => `${u.function}()`);
  const explored =
    depth > 0
      ? await compareExplorations(
          explorable(a),
          explorable(b),
          mainline ? explorable(mainline) : null,
          fixtures,
          depth,
          [...new Set([...(a.design.unknownFacts ?? []), ...(b.design.unknownFacts ?? [])])],
          [...new Set([...unmodelledOf(a), ...unmodelledOf(b)])],
          notExplored,
          nameInA,
        )
      : undefined;
  for (const m of explored?.model ?? []) {
    const n = modelDisagreement(m, depth);
    if (n !== null) notes.push(n);
  }
  const interleaveDepth = opts.interleaveDepth ?? REVIEW_INTERLEAVE_DEPTH;
  const subjects = new Map<ReviewSubject, InterleaveSubject>();
  const threaded = (s: ReviewSubject): InterleaveSubject => {
    const x = subjects.get(s) ?? interleaveSubject(s, opts.kernelTree, opts.modelOnly === true);
    subjects.set(s, x);
    return x;
  };
  const interleaved =
    interleaveDepth > 0
      ? await compareInterleavings(
          threaded(a),
          threaded(b),
          mainline === null ? null : threaded(mainline),
          fixtures,
          interleaveDepth,
          undefined,
          nameInA,
        )
      : undefined;
  // One note on what ran differently: traces (and first divergences) of different code, exploration.
  if (!sameImplementation(a.design.ran, b.design.ran) || (depth > 0 && explained.size > 0)) {
    const c = [a, b].filter((s) => fromC(s.design)).map((s) => s.design.id);
    const m = [a, b].filter((s) => !fromC(s.design)).map((s) => s.design.id);
    const parts: string[] = [];
    if (m.length > 0 && c.length > 0)
      parts.push(
        `${c.join(", ")} ran ${[a, b].some((s) => s.design.stm32 !== undefined) ? "its drivers" : "its TEE driver"} from C, ${m.join(", ")} the model: traces compare different code`,
      );
    if (depth > 0 && c.length > 0)
      parts.push(`exploration (depth ${depth}): ${c.join(", ")} on ${c.length === 1 ? "its" : "their"} C`);
    if (parts.length > 0) notes.push(parts.join("; "));
  }
  // B's changed C that nothing here ran: outside the model and not run from C (a file of its `ran:` is said
  // there); and its build files, never read (the scenarios' kernel configuration is the matrix's own).
  const ranFiles = new Set((b.design.ran ?? []).map((r) => r.file));
  const notReviewed = (b.mapped?.outOfScope ?? [])
    .map((o) => o.file)
    .filter((f) => (/\.[ch]$/.test(f) && !ranFiles.has(f)) || isBuildFile(f));
  const report = await reviewVersions(sa, sb, run, {
    ...(notReviewed.length > 0 ? { notReviewed } : {}),
    mainline: mainline === a ? sa : mainline ? side(mainline) : null,
    scenarios: matrix.scenarios,
    ...(bExplained ? { explainWith: bExplained } : {}),
    ...(notes.length > 0 ? { notes } : {}),
    ...(explored ? { explore: explored } : {}),
    ...(interleaved ? { interleave: interleaved } : {}),
    ...(opts.comparisonWhy ? { comparisonWhy: opts.comparisonWhy } : {}),
    history,
    renames,
  });
  return { report, cells: matrix.results };
}
