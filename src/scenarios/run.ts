/**
 * Runs scenarios over designs: one World per cell, the scenario's driven operations, teardown, and the cell
 * result (verdicts, TA commands, findings, trace, facts read). runMatrix runs every (design, scenario) pair.
 */
import { type Fixtures, loadFixtures } from "../emulator/api.ts";
import { UsageError } from "../errors.ts";
import { type DesignFacts, type FactPath, linkProblem, trackFactReads } from "../semantics/facts.ts";
import { type KEvent, TraceDiverged } from "../semantics/kernel.ts";
import { MODEL_STEPS } from "../semantics/steps.ts";
import {
  type CellResult,
  type FinalState,
  layerOfFile,
  type MatrixResult,
  type RanFile,
  type StepSite,
  type TaCommandName,
  type TraceStep,
  type UnknownReason,
} from "./result.ts";
import { SCENARIOS, type Scenario, scenarioById } from "./scenarios.ts";
import {
  type Stm32DriverImpl,
  SYSFS_STORES,
  sysfsStoreOf,
  type TeeDriverImpl,
  World,
  worldDrivers,
} from "./world.ts";

/** A design to run: a built-in version, or one from an input (ingest, variant file). */
export interface Design {
  id: string;
  title: string;
  facts: DesignFacts;
  /** Facts the mapper could not read: a cell that reads one of them is "unknown". */
  unknownFacts?: readonly FactPath[];
  /** Why each unknown fact is unknown and the files behind it, when the mapper said. */
  unknownWhy?: Readonly<Partial<Record<FactPath, { why: string; files: readonly string[] }>>>;
  /**
   * Functions the series changes in a way no fact describes: the model runs them as they were, so a cell
   * that calls one of them did not run the posted code and is "unknown".
   */
  unmodelled?: readonly UnmodelledCode[];
  /**
   * The TEE client driver to run instead of the hand model's remoteproc_tee.ts (the posted C, interpreted;
   * src/node/versions.ts loads it for a series input that creates it). RunOptions.tee overrides it.
   */
  tee?: TeeDriverImpl;
  /**
   * The STM32 driver to run instead of the hand model's stm32_rproc.ts (a kernel tree's stm32_rproc.c with the
   * series applied, interpreted; src/node/versions.ts loads it). RunOptions.stm32 overrides it.
   */
  stm32?: Stm32DriverImpl;
  /**
   * The TEE client API of a kernel built with CONFIG_REMOTEPROC_TEE=n (the config scenarios): the stubs of the
   * posted remoteproc_tee.h, interpreted with that config. Absent: no stubs were read, and a config scenario
   * that reaches the API is unknown (never the hand model's stubs in their place).
   */
  teeStubs?: TeeDriverImpl;
  /** What runs each file of the design: the interpreted C or the hand model (absent: all the hand model). */
  ran?: readonly RanFile[];
}

export { describeRan, type RanFile } from "./result.ts";

/** The files of a design that ran from C. */
export function ranFromC(design: Pick<Design, "ran">): Set<string> {
  return new Set((design.ran ?? []).filter((r) => r.from === "C").map((r) => r.file));
}

/** A change to a modelled function that no design fact describes (the mapper's "unmodelled" entries). */
export interface UnmodelledCode {
  file: string;
  /** The changed function, or the data (type, initialised table) when `data` is set. */
  function: string;
  line: number;
  summary: string;
  /** A change to data, not code: every cell that runs code of the file may read it. */
  data?: boolean;
  /**
   * The subsystem the environment stands for in the file (semantics/map/derive.ts ENVIRONMENT_FILES): the
   * file never runs, its APIs leave no call step, so every cell that ran is unknown.
   */
  environment?: string;
}

/**
 * Why a cell is unknown: the unknown facts it read, the changed functions it called (also what makes an
 * interleaving's execution unknown, src/explore/kernel-interleave.ts).
 */
export function unknownReasons(
  design: Design,
  reads: ReadonlySet<FactPath>,
  trace: CellResult["trace"],
): UnknownReason[] {
  const out: UnknownReason[] = [];
  for (const f of design.unknownFacts ?? []) {
    if (!reads.has(f)) continue;
    const why = design.unknownWhy?.[f];
    out.push({
      what: f,
      files: [...(why?.files ?? [])],
      why: why?.why ?? "the series changes it in a way the mapper cannot read",
    });
  }
  // A changed function of a file that ran from C ran as posted: the C, not the model, decided the cell.
  const fromC = ranFromC(design);
  const changed = (design.unmodelled ?? []).filter((u) => !fromC.has(u.file));
  if (changed.length > 0) {
    const calls = trace.filter((s) => s.event === "call");
    const called = new Set(calls.map((s) => s.fn));
    // A sysfs write of the scenario runs the store function it stands for.
    for (const s of trace) {
      const store = s.event === "driven" ? sysfsStoreOf(s.fn) : null;
      if (store !== null) called.add(store);
    }
    const layers = new Set(calls.map((s) => s.layer));
    const seen = new Set<string>();
    for (const u of changed) {
      if (seen.has(u.function)) continue;
      // Data (an ops table, a match table, a struct) is never called: any code of its file may read it. A
      // function the model folds into its callers (no step of its own: MODEL_STEPS) may have run in any cell
      // that ran its file's layer. A file the environment stands for may serve any cell that ran C.
      const folded =
        u.data !== true &&
        !MODEL_STEPS.has(u.function) &&
        !(SYSFS_STORES as readonly string[]).includes(u.function);
      const ran =
        u.environment !== undefined
          ? calls.length > 0
          : u.data === true || folded
            ? layers.has(layerOfFile(u.file))
            : called.has(u.function);
      if (!ran) continue;
      seen.add(u.function);
      const how =
        u.environment !== undefined
          ? `; ${u.file} never runs: the environment's model of ${u.environment} serves this cell as it was`
          : folded
            ? `, and the model folds it into the code of ${u.file} this cell ran (it has no step of its own), as it was`
            : u.data === true
              ? `, and the model's code of ${u.file} that this cell ran reads it as it was`
              : ", and the model runs it as it was";
      out.push({
        what: u.data === true ? u.function : `${u.function}()`,
        files: [u.file],
        why: `the series changes it (line ${u.line}: ${u.summary}) in a way no design fact describes${how}`,
      });
    }
  }
  return out;
}

const TA_COMMANDS: ReadonlySet<string> = new Set([
  "LOAD_FW",
  "START_FW",
  "STOP_FW",
  "GET_RSC_TABLE",
  "GET_COREDUMP",
  "RELEASE_FW",
]);

function finalStateOf(w: World): FinalState {
  const r = w.rprocView;
  if (r !== null) return r.state === "suspended" ? "offline" : r.state;
  return "absent";
}

/** One instance, thrown by every config cell of a design without stubs (an Error's stack is costly). */
class NoStubsRead extends Error {
  static readonly instance = new NoStubsRead("no CONFIG_REMOTEPROC_TEE=n stubs");
}

/** The stubs of a design none were read for: its config cells are unknown, never the hand model's stubs. */
const NO_STUBS: TeeDriverImpl = {
  what: "no CONFIG_REMOTEPROC_TEE=n stubs were read for this design",
  init: async () => {
    throw NoStubsRead.instance;
  },
  cannotRun: (e) =>
    e instanceof NoStubsRead
      ? {
          what: "the CONFIG_REMOTEPROC_TEE=n stubs of remoteproc_tee.h",
          files: ["include/linux/remoteproc_tee.h"],
          why: "no stubs were read for this design (the posted remoteproc_tee.h was not at hand)",
        }
      : null,
};

export interface RunOptions {
  /**
   * The trace of a known run to compare with: the run stops at its first step that differs, and its result
   * then holds the trace up to that step (enough to tell it differs; attribution's early stop).
   */
  expect?: readonly TraceStep[];
  /** The remoteproc_tee.c to run instead of the hand model's (see TeeDriverImpl); its cells say so. */
  tee?: TeeDriverImpl;
  /** The stm32_rproc.c to run instead of the hand model's (see Stm32DriverImpl). */
  stm32?: Stm32DriverImpl;
}

/** Runs one scenario on one design. */
export async function runScenario(
  design: Design,
  scenario: Scenario | string,
  fixtures?: Fixtures,
  opts: RunOptions = {},
): Promise<CellResult> {
  const s = typeof scenario === "string" ? scenarioById(scenario) : scenario;
  if (s === undefined)
    throw new UsageError(
      `unknown scenario "${String(scenario)}" (known: ${SCENARIOS.map((x) => x.id).join(", ")})`,
    );
  // A scenario on a kernel without the TEE client driver runs the posted header's stubs in its place: the
  // STM32 driver's own build of them when it is C built with that config, else the design's stubs.
  const noTee = s.config?.REMOTEPROC_TEE === false;
  const stm32Given = opts.stm32 ?? design.stm32;
  const stm32Impl = noTee ? (stm32Given?.withoutTee ?? stm32Given) : stm32Given;
  const teeImpl = noTee
    ? stm32Given?.withoutTee !== undefined
      ? undefined
      : (design.teeStubs ?? NO_STUBS)
    : (opts.tee ?? design.tee);
  const tracked = trackFactReads(design.facts);
  const unknownOf = (trace: CellResult["trace"]) => {
    const because = unknownReasons(design, tracked.reads, trace);
    return because.length > 0 ? { unknown: true, unknownBecause: because } : { unknown: false };
  };
  // Whether the design links asks only whether rproc_pa_to_va exists (its signature), which the mapper reads
  // even where it cannot vouch for the body (map/pa_to_va.ts): the body is read where the model runs it.
  const link = linkProblem(design.facts);
  if (link !== null) for (const f of ["tee", "core.paToVa"] as const) tracked.reads.add(f);
  const reason = link ?? s.notApplicable(tracked.facts);
  const base = { version: design.id, scenario: s.id };
  if (reason !== null) {
    return {
      ...base,
      applicable: false,
      reason,
      ok: true,
      errno: 0,
      finalState: "absent",
      tee: [],
      findings: [],
      trace: [],
      ...unknownOf([]),
      factsRead: [...tracked.reads].sort(),
    };
  }
  const w = await World.create(tracked.facts, {
    platform: s.platform ?? "stm32mp15",
    dt: s.dt ?? "reference",
    fixtures: fixtures ?? (await loadFixtures()),
    ...worldDrivers({ tee: teeImpl, stm32: stm32Impl }),
    ...(s.config === undefined ? {} : { config: s.config }),
  });
  if (opts.expect !== undefined) w.k.expected = opts.expect;
  // The TA commands of the cell, as they happen: the kernel need not keep every event of the run (tens of
  // thousands when the drivers and the core run from C, each holding its frame) for this one list.
  const tee: TaCommandName[] = [];
  const taCommand = (e: KEvent): void => {
    if (e.type === "emu" && e.e.layer === "ta" && e.e.fn === "invoke" && TA_COMMANDS.has(e.e.cmdName))
      tee.push(e.e.cmdName as TaCommandName);
  };
  for (const e of w.k.events) taCommand(e);
  w.k.keepEvents = false;
  w.k.subscribe(taCommand);
  // An implementation that cannot run what the scenario reaches stops it: the cell is unknown, with the
  // steps up to there (never completed with the hand model's behaviour).
  let stopped: UnknownReason | null = null;
  let finalState: FinalState = "absent";
  try {
    s.beforeProbe?.(w);
    await s.run(w);
    finalState = finalStateOf(w);
    await w.teardown();
  } catch (e) {
    if (!(e instanceof TraceDiverged) && w.k.diverged < 0) {
      stopped = teeImpl?.cannotRun(e) ?? stm32Impl?.cannotRun(e) ?? null;
      if (stopped === null) throw e;
      finalState = finalStateOf(w);
    }
  }
  if (w.k.diverged >= 0)
    // Stopped where it left the expected trace: only good for telling that it differs.
    return {
      ...base,
      applicable: true,
      ok: false,
      errno: w.errno,
      finalState,
      tee: [],
      findings: [...w.monitors.findings],
      trace: w.k.trace.slice(0, w.k.diverged + 1),
      ...unknownOf(w.k.trace),
      factsRead: [...tracked.reads].sort(),
    };
  const inst = w.stm32Instance ?? w.teeInstance;
  const findings = w.monitors.findings.map((f) => {
    const site = inst?.siteOfStep(f.step);
    return site === undefined ? f : { ...f, site: { file: site.file, line: site.line } };
  });
  const sites: StepSite[] = [];
  if (inst !== null)
    for (let step = 0; step < w.k.trace.length; step++) {
      const s = inst.siteOfStep(step);
      if (s !== undefined) sites.push({ step, file: s.file, line: s.line });
    }
  const known = unknownOf(w.k.trace);
  const unknown =
    stopped === null ? known : { unknown: true, unknownBecause: [stopped, ...(known.unknownBecause ?? [])] };
  return {
    ...base,
    applicable: true,
    ok: stopped === null && w.errno === 0,
    errno: w.errno,
    finalState,
    tee,
    findings,
    trace: w.k.trace,
    ...unknown,
    factsRead: [...tracked.reads].sort(),
    ...(sites.length > 0 ? { sites } : {}),
  };
}

/** Runs every scenario of `scenarioIds` (default: all) on every design, designs outer, scenarios inner. */
export async function runMatrix(
  designs: readonly Design[],
  scenarioIds?: readonly string[],
): Promise<MatrixResult> {
  const scenarios = (scenarioIds ?? SCENARIOS.map((s) => s.id)).map((id) => {
    const s = scenarioById(id);
    if (s === undefined)
      throw new UsageError(`unknown scenario "${id}" (known: ${SCENARIOS.map((x) => x.id).join(", ")})`);
    return s;
  });
  const fixtures = await loadFixtures();
  const results: CellResult[] = [];
  for (const d of designs) for (const s of scenarios) results.push(await runScenario(d, s, fixtures));
  return {
    versions: designs.map((d) => ({ id: d.id, title: d.title, ...(d.ran ? { ran: [...d.ran] } : {}) })),
    scenarios: scenarios.map((s) => ({ id: s.id, title: s.title })),
    results,
  };
}
