/**
 * The result contract of the scenario matrix (`rproc-review matrix --json`). Compare, report, the bot and
 * explore all consume these types; their JSON shape is a public contract (see README).
 */
import type { FactPath } from "../semantics/facts.ts";
import { MODELLED_SOURCES } from "../tree/paths.ts";

/** Monitor finding kinds (a contract). */
export type FindingKind =
  | "use-after-free"
  | "double-free"
  | "leak"
  | "double-release"
  | "error-swallowed"
  | "sleep-in-atomic"
  | "unauthenticated-start"
  | "warn"
  | "state-mismatch";

export interface Finding {
  kind: FindingKind;
  detail: string;
  /** The C function in which the monitor saw it. */
  at: string;
  /** Index of the trace step at which it was raised. */
  step: number;
  /** The statement of the posted C at which it was raised, when that code ran from C (the interpreter). */
  site?: { file: string; line: number };
}

export type TraceLayer = "core" | "tee" | "ta" | "platform" | "stm32";

/** The trace layer of a C file's functions, as the hand model's modules name theirs. */
export function layerOfFile(file: string): TraceLayer {
  if (/remoteproc_tee\.[ch]$/.test(file)) return "tee";
  if (/stm32/.test(file)) return "stm32";
  return "core";
}

/** "file:line", or the file alone for a site of no line (line 0: the file as a whole, e.g. a missing definition). */
export function siteText(site: { file: string; line: number }): string {
  return site.line === 0 ? site.file : `${site.file}:${site.line}`;
}

export interface TraceStep {
  layer: TraceLayer;
  /** The C function (or TA command / platform action) this step stands for. */
  fn: string;
  /** What happened: "call", "return", "invoke", "alloc", "free", "state", "lock", … */
  event: string;
  detail: string;
}

/**
 * A step's detail without the line numbers of C source positions (`kzalloc(32) at remoteproc_tee.c:185`): where
 * the posted code sits is not what it does, so a line inserted above it moves no behaviour.
 */
export function detailBehaviour(detail: string): string {
  return detail.includes(".c:") || detail.includes(".h:") ? detail.replace(/(\.[ch]):\d+\b/g, "$1") : detail;
}

/** What two steps must share to be the same behaviour: layer, function, event and detail (lines aside). */
export function stepKey(s: TraceStep): string {
  return `${s.layer}\u0000${s.fn}\u0000${s.event}\u0000${detailBehaviour(s.detail)}`;
}

export type FinalState = "offline" | "running" | "crashed" | "attached" | "detached" | "deleted" | "absent";

export type TaCommandName =
  | "LOAD_FW"
  | "START_FW"
  | "STOP_FW"
  | "GET_RSC_TABLE"
  | "GET_COREDUMP"
  | "RELEASE_FW";

export interface CellResult {
  version: string;
  scenario: string;
  applicable: boolean;
  /** Only when not applicable. */
  reason?: string;
  /** Every operation the scenario drove returned 0. */
  ok: boolean;
  /** First non-zero return of a driven operation (negative kernel errno), else 0. */
  errno: number;
  finalState: FinalState;
  /** TA commands in the order invoked, failed ones included. */
  tee: TaCommandName[];
  findings: Finding[];
  trace: TraceStep[];
  /**
   * The cell did not run the posted design: it read a design fact the mapper could not read, or it ran a
   * function the series changes in a way no fact describes. Its other fields are not verdicts.
   */
  unknown: boolean;
  /** What made it unknown; absent when known. */
  unknownBecause?: UnknownReason[];
  /** The design facts this cell read while running (not part of the issue's contract; used by compare). */
  factsRead?: FactPath[];
  /** The posted C statement that made each trace step C made, when the cell ran C (ascending by step). */
  sites?: StepSite[];
}

/** A trace step made by the posted C, and the statement that made it. */
export interface StepSite {
  step: number;
  file: string;
  line: number;
}

/** One thing a cell could not run as posted: an unknown fact it read, or a changed function it called. */
export interface UnknownReason {
  /** The fact path ("tee.ctxLock") or the function ("rproc_boot()"). */
  what: string;
  /** The files of the series behind it (the mapper's evidence), when known. */
  files: string[];
  why: string;
  /** The statement of the posted C the interpreter stopped at, when the cell ran C. */
  at?: { file: string; line: number };
}

export interface MatrixResult {
  /** Each design's id, title and, when any file ran from C, what ran each file (RanFile of run.ts). */
  versions: {
    id: string;
    title: string;
    ran?: RanFile[];
  }[];
  scenarios: { id: string; title: string }[];
  results: CellResult[];
}

/** What ran one file of a design (src/tree ranFrom): its C, interpreted, or the hand model. */
export interface RanFile {
  /** Path in the kernel tree, e.g. "drivers/remoteproc/remoteproc_tee.c". */
  file: string;
  /** `C`: interpreted; `model`: the hand model; `not run`: created by the series, neither runs it. */
  from: "C" | "model" | "not run";
  /** Where its text came from, or why it did not run from C (describeProvenance). */
  why: string;
  /**
   * The kernel config of this build of the file when not the default one: the config scenarios ran it
   * (e.g. "CONFIG_REMOTEPROC_TEE=n"). Absent: the build every other scenario ran.
   */
  config?: string;
  /**
   * What the reader of a verdict must know about this file's text (a hunk git applied inside another
   * function than the series wrote it in: src/tree/moved.ts). Absent: nothing.
   */
  warnings?: string[];
  /**
   * Why a file the kernel tree was asked to give runs from the model instead (a patch of the series that
   * did not apply there, a header such a patch changes): said wherever what ran is said. Absent: the file
   * was not meant to run from C (no tree, no interpreter for it).
   */
  fallback?: string;
}

/** Every warning of the files a design ran, once each. */
export function ranWarnings(ran: readonly RanFile[] | undefined): string[] {
  return [...new Set((ran ?? []).flatMap((r) => r.warnings ?? []))];
}

/** Short names of the modelled files (the rest of the kernel the hand model mirrors). */
const SHORT: Record<string, string> = {
  "remoteproc_core.c": "core",
  "remoteproc_elf_loader.c": "elf loader",
  "remoteproc_virtio.c": "virtio",
  "stm32_rproc.c": "stm32",
};

/** Files as the `ran:` lines name them: a modelled file by its short name ("core"), another by its base name. */
export function shortFileNames(files: readonly string[]): string[] {
  return files.map((f) => {
    const base = f.slice(f.lastIndexOf("/") + 1);
    return SHORT[base] ?? base;
  });
}

/**
 * One line saying what ran a design, e.g. "remoteproc_tee.c from C; core, stm32 from the model" (the .c files;
 * the headers that ran with them are in the list itself). `short`: "the rest from the model" for the model's.
 */
export function describeRan(ran: readonly RanFile[] | undefined, short = false): string {
  if (ran === undefined || ran.length === 0) return "the hand model (every file)";
  const sources = (from: RanFile["from"], config?: string) =>
    ran.filter((r) => r.from === from && r.config === config && !r.file.endsWith(".h"));
  const group = (from: RanFile["from"], config?: string) =>
    shortFileNames(sources(from, config).map((r) => r.file));
  const parts: string[] = [];
  const c = group("C");
  const model = sources("model");
  const not = group("not run");
  if (c.length > 0) parts.push(`${c.join(", ")} from C`);
  // The files that fell back, by reason (each reason once: what the reader must know of the verdict).
  const byReason = new Map<string, string[]>();
  for (const r of model)
    if (r.fallback !== undefined) byReason.set(r.fallback, [...(byReason.get(r.fallback) ?? []), r.file]);
  const plain = shortFileNames(model.filter((r) => r.fallback === undefined).map((r) => r.file));
  for (const [reason, files] of byReason)
    parts.push(`${shortFileNames(files).join(", ")} from the model (${reason})`);
  if (plain.length > 0) parts.push(short ? "the rest from the model" : `${plain.join(", ")} from the model`);
  if (not.length > 0) parts.push(`${not.join(", ")} not run (no model, not driven from C yet)`);
  // Another build of some files (the config scenarios'), with the headers whose inline code it carries.
  for (const config of new Set(ran.flatMap((r) => (r.config === undefined ? [] : [r.config])))) {
    const cc = group("C", config);
    const inlined = ran
      .filter((r) => r.from === "C" && r.config === config && r.file.endsWith(".h"))
      .map((r) => r.file);
    const notC = ran.filter((r) => r.from !== "C" && r.config === config).map((r) => r.file);
    const built: string[] = [];
    if (cc.length > 0)
      built.push(
        `${cc.join(", ")} from C${inlined.length > 0 ? ` with ${shortFileNames(inlined).join(", ")}'s stubs inlined` : ""}`,
      );
    if (notC.length > 0) built.push(`${shortFileNames(notC).join(", ")} not run`);
    parts.push(`with ${config}: ${built.join(", ")}`);
  }
  return parts.join("; ");
}

/**
 * The kernel's own files (those the hand model stands in for: core, ELF loader, virtio, the STM32 driver)
 * that one design ran from C and the other from the model, in the same build: their base differs (the model
 * kernel on one side, a kernel tree on the other), so a difference between the two is not the series' alone.
 * Each with the side that ran it from C. A design without `ran` ran every file from the model.
 */
export function baseRunDifferently(
  a: readonly RanFile[] | undefined,
  b: readonly RanFile[] | undefined,
): { file: string; fromC: "a" | "b" }[] {
  const c = (r: readonly RanFile[] | undefined, file: string, config: string | undefined) =>
    (r ?? []).some((x) => x.file === file && x.from === "C" && x.config === config);
  const builds = [...new Set([...(a ?? []), ...(b ?? [])].map((x) => x.config))];
  // The first build (the default one, or a config's) in which the two ran the file differently.
  return MODELLED_SOURCES.flatMap((file) => {
    const at = builds.findIndex((config) => c(a, file, config) !== c(b, file, config));
    return at < 0 ? [] : [{ file, fromC: c(a, file, builds[at]) ? ("a" as const) : ("b" as const) }];
  });
}

/** The files two designs ran from C differ: their traces come from different code and are not comparable. */
export function sameImplementation(
  a: readonly RanFile[] | undefined,
  b: readonly RanFile[] | undefined,
): boolean {
  const fromC = (r: readonly RanFile[] | undefined) =>
    (r ?? [])
      .filter((x) => x.from === "C" && x.config === undefined)
      .map((x) => x.file)
      .sort()
      .join("\n");
  return fromC(a) === fromC(b);
}
