/**
 * The C a series brings that runs with no kernel tree, and how it travels with a job. Two units:
 * - the TEE client driver the series creates whole (remoteproc_tee.c), lowered with CONFIG_REMOTEPROC_TEE=y
 *   with the headers the series creates: it replaces the hand model's TEE driver;
 * - the series' remoteproc_tee.h lowered with CONFIG_REMOTEPROC_TEE=n: its stubs are the client API the
 *   STM32 driver calls on a kernel without the TEE driver (the config scenarios).
 * Lowering needs the C parser, which loads on Node only; a Worker gets the lowered units as JSON with the job
 * (encodeSeriesC on Node, decodeSeriesC on the Worker) and checks that they are of this series' text. A unit
 * that is missing, foreign or corrupted becomes an implementation whose cells are unknown naming what is
 * wrong: never the hand model in its place.
 */
import type { Parser } from "web-tree-sitter";
import type { RanFile } from "../../scenarios/result.ts";
import type { TeeDriverImpl } from "../../scenarios/world.ts";
import { sha256Hex } from "../../series/patchid.ts";
import type { Series } from "../../series/types.ts";
import {
  applyWithoutTree,
  describeProvenance,
  loadOrder,
  MODELLED_FILES,
  ranFrom,
  runnableFiles,
  type TreeReport,
} from "../../tree/index.ts";
import { decodeProgram, encodeProgram, type ProgramJson } from "../codec.ts";
import type { SourceFile } from "../lower.ts";
import { PRELUDE } from "../prelude.ts";
import { ENV_HEADERS } from "./headers.ts";
import { CannotRunC } from "./kernel.ts";
import {
  interpretedTeeDriver,
  interpretedTeeStubs,
  type LoadedTeeDriver,
  loadTeeDriver,
  loadTeeStubs,
  unloadableTeeDriver,
} from "./remoteproc_tee.ts";

/**
 * One lowered unit, or why there is none for a file the series has (`lowering`: the C did not parse or
 * lower; otherwise it did not reach this runtime).
 */
export type CUnit =
  | { readonly ok: true; readonly file: string; readonly loaded: LoadedTeeDriver }
  | { readonly ok: false; readonly file: string; readonly why: string; readonly lowering?: boolean };

export interface SeriesC {
  /** The TEE client driver the series creates (null: it creates none). */
  readonly driver: CUnit | null;
  /** The series' remoteproc_tee.h with CONFIG_REMOTEPROC_TEE=n (null: the series posts no such header). */
  readonly stubs: CUnit | null;
  /** What runs each file the series touches. */
  readonly ran: readonly RanFile[];
}

/** The files of a series that run from C without a tree, with the texts their units are lowered from. */
interface SeriesFiles {
  readonly report: TreeReport;
  readonly driver: { path: string; text: string } | null;
  readonly headers: readonly SourceFile[];
  /** The header that declares the TEE client API (its stubs under CONFIG_REMOTEPROC_TEE=n). */
  readonly stubHeader: string | null;
  /** Members the series adds to struct rproc (addedRprocMembers). */
  readonly rprocMembers: readonly string[];
}

/**
 * The member declarations the series' patches add inside `struct rproc { ... };` of
 * include/linux/remoteproc.h (a hunk inside the struct names it as its section), in order.
 */
function addedRprocMembers(series: Series): string[] {
  const out: string[] = [];
  for (const p of series.patches)
    for (const f of p.files) {
      if (f.newPath !== "include/linux/remoteproc.h") continue;
      for (const h of f.hunks) {
        let inside = /^struct rproc\s*\{/.test(h.section.trim());
        for (const l of h.lines) {
          if (l.kind === "del") continue;
          if (/^struct rproc\s*\{/.test(l.text)) inside = true;
          else if (/^\};/.test(l.text)) inside = false;
          else if (inside && l.kind === "add" && /;\s*$/.test(l.text) && !/^\s*(?:\/\*|\*)/.test(l.text))
            out.push(l.text.trim());
        }
      }
    }
  return out;
}

/**
 * The TEE client driver among the files the series creates: a created source that opens a TEE client
 * context (what a TEE client driver does), remoteproc_tee.c by preference.
 */
export function teeDriverFile(report: TreeReport): (TreeReport["files"][number] & { text: string }) | null {
  const created = runnableFiles(report).filter(
    (f) =>
      f.role === "source" && f.provenance.kind === "created" && /tee_client_open_context\s*\(/.test(f.text),
  );
  return created.find((f) => /(^|\/)remoteproc_tee\.c$/.test(f.path)) ?? created[0] ?? null;
}

function seriesFiles(series: Series): SeriesFiles {
  const report = applyWithoutTree(series);
  const driver = teeDriverFile(report);
  const headers = loadOrder(report).filter((f) => f.path.endsWith(".h"));
  const api = headers.filter((h) => /\brproc_tee_register\s*\(/.test(h.text));
  const stubHeader = api.find((h) => /(^|\/)remoteproc_tee\.h$/.test(h.path))?.path ?? api[0]?.path ?? null;
  return {
    report,
    driver: driver === null ? null : { path: driver.path, text: driver.text },
    headers,
    stubHeader,
    rprocMembers: addedRprocMembers(series),
  };
}

function ranOf(files: SeriesFiles): RanFile[] {
  const { report, driver, headers } = files;
  const ran: RanFile[] = [];
  for (const f of report.files) {
    const why = describeProvenance(f.provenance);
    if (f.path === driver?.path || (f.role === "header" && headers.some((h) => h.path === f.path)))
      ran.push({ file: f.path, from: "C", why });
    else if (MODELLED_FILES.includes(f.path) && f.role === "source")
      ran.push({ file: f.path, from: "model", why });
    else if (f.role === "source" && ranFrom(report, f.path) === "C")
      ran.push({ file: f.path, from: "not run", why: `${why}; no hand model of it, not driven from C yet` });
  }
  return ran;
}

/**
 * What the design's `ran:` line says of the series' files: every file when the series creates a TEE driver,
 * else only when it creates a source file no one runs (named, so a review does not pass over it); none when
 * everything it touches is the hand model's (no `ran:` line: "the hand model (every file)").
 */
function seriesRan(files: SeriesFiles): RanFile[] {
  const ran = ranOf(files);
  return files.driver !== null || ran.some((r) => r.from === "not run") ? ran : [];
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Parses and lowers the series' C units (where the parser loads: Node). */
export function lowerSeriesC(series: Series, parser: Parser): SeriesC {
  const files = seriesFiles(series);
  let driver: CUnit | null = null;
  if (files.driver !== null) {
    const file = files.driver.path;
    try {
      driver = {
        ok: true,
        file,
        loaded: loadTeeDriver(parser, {
          headers: files.headers,
          source: files.driver,
          rprocMembers: files.rprocMembers,
        }),
      };
    } catch (e) {
      driver = { ok: false, file, why: message(e), lowering: true };
    }
  }
  return { driver, stubs: lowerStubs(files, parser), ran: seriesRan(files) };
}

/** The stubs unit alone (a built-in version keeps the hand model's TEE driver, but its header is posted C). */
export function lowerSeriesStubs(series: Series, parser: Parser): CUnit | null {
  return lowerStubs(seriesFiles(series), parser);
}

function lowerStubs(files: SeriesFiles, parser: Parser): CUnit | null {
  const file = files.stubHeader;
  if (file === null) return null;
  try {
    return { ok: true, file, loaded: loadTeeStubs(parser, files.headers, file) };
  } catch (e) {
    return { ok: false, file, why: message(e), lowering: true };
  }
}

/** C that is not here to run: every cell that reaches it is unknown, naming the file and `why`. */
export function unavailableC(file: string, why: string): TeeDriverImpl {
  const what = `the C of ${file} is not here to run`;
  return {
    what: `${what}: ${why}`,
    init: async () => {
      throw new CannotRunC(what, { file, line: 0 }, false);
    },
    cannotRun: (e) =>
      e instanceof CannotRunC && e.what === what ? { what, files: [file], why, at: e.site } : null,
  };
}

/** Why the config scenarios of a design cannot run its stubs (a design that has a TEE client API). */
export function missingTeeStubs(why: string): TeeDriverImpl {
  return unavailableC(
    "include/linux/remoteproc_tee.h",
    `no CONFIG_REMOTEPROC_TEE=n stubs of remoteproc_tee.h: ${why}`,
  );
}

function unitImpl(unit: CUnit & { ok: false }): TeeDriverImpl {
  return unit.lowering === true
    ? unloadableTeeDriver(unit.file, unit.why)
    : unavailableC(unit.file, unit.why);
}

/** What a design runs from a series' C: its TEE driver (when it creates one) and its header's stubs. */
export function seriesCDesign(c: SeriesC): {
  tee?: TeeDriverImpl;
  teeStubs: TeeDriverImpl;
  ran?: readonly RanFile[];
} {
  const teeStubs = stubsImpl(c.stubs);
  if (c.driver === null) return c.ran.length > 0 ? { teeStubs, ran: c.ran } : { teeStubs };
  if (c.driver.ok) return { tee: interpretedTeeDriver(c.driver.loaded), teeStubs, ran: c.ran };
  // The driver's C is not here (or did not lower): its file did not run, whatever ran would have said.
  const failed = c.driver;
  const ran = c.ran.map(
    (r): RanFile => (r.file === failed.file ? { ...r, from: "not run", why: failed.why } : r),
  );
  return { tee: unitImpl(failed), teeStubs, ran };
}

/** The implementation of a stubs unit (none: the series posts no header with the TEE client API). */
export function stubsImpl(stubs: CUnit | null): TeeDriverImpl {
  if (stubs === null) return missingTeeStubs("the series posts no header that declares the TEE client API");
  return stubs.ok ? interpretedTeeStubs(stubs.loaded) : unitImpl(stubs);
}

// --- the job's JSON -------------------------------------------------------------------------------------

export const SERIES_C_FORMAT = "rproc-review/series-c";
export const SERIES_C_VERSION = 1;

/**
 * What the lowering depended on besides the posted text: the interpreter's prelude and the environment's
 * headers (their structs and macros are in the lowered program; the environment reads them by name). A
 * payload lowered against other ones is refused.
 */
export const ENV_FINGERPRINT = sha256Hex(
  [PRELUDE, ...ENV_HEADERS.map((h) => `${h.path}\n${h.text}`)].join("\n\u0000\n"),
).slice(0, 16);

type UnitJson =
  | { file: string; sha256: string; program: ProgramJson }
  | { file: string; sha256: string; error: string };

export interface SeriesCJson {
  format: typeof SERIES_C_FORMAT;
  version: number;
  env: string;
  driver: UnitJson | null;
  stubs: UnitJson | null;
}

/** The texts a unit is lowered from, as one hash: a payload of another text is not this series' C. */
function driverHash(files: SeriesFiles): string {
  return sha256Hex(
    [
      ...files.headers,
      ...(files.driver === null ? [] : [files.driver]),
      ...(files.rprocMembers.length === 0
        ? []
        : [{ path: "struct rproc", text: files.rprocMembers.join("\n") }]),
    ]
      .map((f) => `${f.path}\n${f.text}`)
      .join("\n\u0000\n"),
  );
}
function stubsHash(files: SeriesFiles): string {
  return sha256Hex(files.headers.map((f) => `${f.path}\n${f.text}`).join("\n\u0000\n"));
}

function unitJson(unit: CUnit | null, sha256: string): UnitJson | null {
  if (unit === null) return null;
  return unit.ok
    ? { file: unit.file, sha256, program: encodeProgram(unit.loaded) }
    : { file: unit.file, sha256, error: unit.why };
}

/** The series' lowered C as JSON, to travel with its job. */
export function encodeSeriesC(series: Series, c: SeriesC): SeriesCJson {
  const files = seriesFiles(series);
  return {
    format: SERIES_C_FORMAT,
    version: SERIES_C_VERSION,
    env: ENV_FINGERPRINT,
    driver: unitJson(c.driver, driverHash(files)),
    stubs: unitJson(c.stubs, stubsHash(files)),
  };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The series' C from the JSON that came with its job (undefined: none came). Each unit the series has is
 * checked against the series' own text; whatever is missing or wrong becomes a unit that says so.
 */
export function decodeSeriesC(series: Series, json: unknown): SeriesC {
  const files = seriesFiles(series);
  const ran = seriesRan(files);
  const expected = {
    driver: files.driver === null ? null : { file: files.driver.path, sha256: driverHash(files) },
    stubs: files.stubHeader === null ? null : { file: files.stubHeader, sha256: stubsHash(files) },
  };
  const fail = (why: string): SeriesC => ({
    driver: expected.driver === null ? null : { ok: false, file: expected.driver.file, why },
    stubs: expected.stubs === null ? null : { ok: false, file: expected.stubs.file, why },
    ran,
  });
  if (json === undefined || json === null)
    return fail(
      "the lowered C did not come with the job (C is parsed on Node: `rproc-review map --json` or `rproc-review mail-post` sends it)",
    );
  if (!isObject(json) || json.format !== SERIES_C_FORMAT)
    return fail(`the C that came with the job is not ${SERIES_C_FORMAT} JSON`);
  if (json.version !== SERIES_C_VERSION)
    return fail(
      `the C that came with the job is format version ${JSON.stringify(json.version)}, this build reads ${SERIES_C_VERSION}`,
    );
  if (json.env !== ENV_FINGERPRINT)
    return fail(
      `the C that came with the job was lowered against other environment headers (${JSON.stringify(json.env)}, here ${ENV_FINGERPRINT}): lower it again with this version`,
    );
  return {
    driver: decodeUnit("driver", json.driver, expected.driver),
    stubs: decodeUnit("stubs", json.stubs, expected.stubs),
    ran,
  };
}

function decodeUnit(
  what: "driver" | "stubs",
  json: unknown,
  expected: { file: string; sha256: string } | null,
): CUnit | null {
  if (expected === null) return null;
  const file = expected.file;
  const fail = (why: string): CUnit => ({
    ok: false,
    file,
    why: `the lowered ${file} that came with the job: ${why}`,
  });
  if (json === null || json === undefined) return fail(`absent (its ${what} is missing from the payload)`);
  if (!isObject(json) || typeof json.file !== "string" || typeof json.sha256 !== "string")
    return fail(`${what} is not a lowered unit ({ file, sha256, program | error })`);
  if (json.file !== file) return fail(`it is of ${json.file}, not of ${file} (another series' C)`);
  if (json.sha256 !== expected.sha256)
    return fail(
      `lowered from another text (sha256 ${json.sha256.slice(0, 12)}, the series' is ${expected.sha256.slice(0, 12)})`,
    );
  if (typeof json.error === "string") return { ok: false, file, why: json.error, lowering: true };
  const decoded = decodeProgram(json.program);
  if (!decoded.ok) return fail(decoded.why);
  return { ok: true, file, loaded: { ...decoded.loaded, file } };
}
