/**
 * Resolving a version named on the command line (Node side): a built-in id, with the mapper's stored reading
 * of its mails (patches/<id>/facts.json) and, when a mail directory is at hand, the mails themselves; or an
 * input (path, pr:owner/repo#n, git:<dir>:<a>..<b>) read and mapped.
 */
import { readFile, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Parser } from "web-tree-sitter";
import type { BuiltinManifest } from "../compare/against.ts";
import type { MappedFacts } from "../compare/sides.ts";
import { InputError } from "../errors.ts";
import {
  coreNeeds,
  interpretedTreeDrivers,
  type LoadedTreeDrivers,
  loadTreeDrivers,
  TREE_CONFIG_WITHOUT_TEE,
} from "../interp/env/drivers.ts";
import { unloadableTeeDriver } from "../interp/env/remoteproc_tee.ts";
import {
  lowerSeriesC,
  lowerSeriesStubs,
  missingTeeStubs,
  seriesCDesign,
  stubsImpl,
  teeDriverFile,
} from "../interp/env/series.ts";
import type { LowerProblem, SourceFile } from "../interp/lower.ts";
import {
  builtinSubject,
  type ReviewRunOptions,
  type ReviewSubject,
  seriesSubject,
  withC,
} from "../review/run.ts";
import type { Design, RanFile } from "../scenarios/run.ts";
import type { Stm32DriverImpl, TeeDriverImpl } from "../scenarios/world.ts";
import { mapSeries } from "../semantics/map/index.ts";
import { BUILTIN_VERSIONS, type BuiltinVersion, builtinVersion, MAINLINE } from "../semantics/versions.ts";
import type { Series } from "../series/types.ts";
import {
  describeProvenance,
  loadOrder,
  MODELLED_FILES,
  MODELLED_SOURCES,
  ranFrom,
  runnableFiles,
  type TreeReport,
} from "../tree/index.ts";
import { describeMoved } from "../tree/moved.ts";
import { cParser } from "./c-parser.ts";
import { type InputOptions, loadInput } from "./inputs.ts";
import { applySeriesToTree, resolveKernelTree } from "./kernel-tree.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const PATCHES_DIR = join(ROOT, "patches");

/**
 * Where the mails of the built-in versions are looked for when --mails is not given: $RPROC_REVIEW_MAILS, else
 * the project's material next to the checkout (../shared/lkml, one sub-directory per version id) if present.
 */
export async function defaultMailsDir(): Promise<string | undefined> {
  if (process.env.RPROC_REVIEW_MAILS) return process.env.RPROC_REVIEW_MAILS;
  const dir = join(ROOT, "..", "shared", "lkml");
  return (await stat(dir).catch(() => null))?.isDirectory() ? dir : undefined;
}

/** The mapper's stored reading of a built-in version (patches/<id>/facts.json), if there is one. */
export async function storedMapping(id: string): Promise<MappedFacts | null> {
  const text = await readFile(join(PATCHES_DIR, id, "facts.json"), "utf8").catch(() => null);
  if (text === null) return null;
  const doc = JSON.parse(text) as Partial<MappedFacts>;
  return doc.facts && doc.evidence ? { facts: doc.facts, evidence: doc.evidence } : null;
}

/** The manifests of the built-in versions (patches/<id>/manifest.json), oldest first as BUILTIN_VERSIONS. */
export async function builtinManifests(): Promise<BuiltinManifest[]> {
  const out: BuiltinManifest[] = [];
  for (const v of BUILTIN_VERSIONS) {
    const text = await readFile(join(PATCHES_DIR, v.id, "manifest.json"), "utf8").catch(() => null);
    if (text !== null) out.push({ ...(JSON.parse(text) as BuiltinManifest), id: v.id });
  }
  return out;
}

/**
 * The mails of built-in version `id` in `mailsDir/<id>`, when that directory exists. A `mailsDir` that is not
 * a directory is bad input: a mistyped --mails must not silently drop the changelog check.
 */
async function builtinMails(mailsDir: string | undefined, id: string): Promise<Series | null> {
  if (mailsDir === undefined) return null;
  if (!(await stat(mailsDir).catch(() => null))?.isDirectory())
    throw new InputError(
      "no such directory (the mails of the built-in versions: --mails, $RPROC_REVIEW_MAILS)",
      {
        subject: mailsDir,
      },
    );
  const dir = join(mailsDir, id);
  if (!(await stat(dir).catch(() => null))?.isDirectory()) return null;
  return loadInput(dir);
}

/** The environment variable that keeps the hand model for inputs too (as --model-only does). */
export const MODEL_ONLY_ENV = "RPROC_REVIEW_MODEL_ONLY";

export interface SubjectOptions {
  /** Run every file with the hand model, even the C the series creates (default: $RPROC_REVIEW_MODEL_ONLY). */
  modelOnly?: boolean;
  /**
   * The kernel tree whose modelled files run from C with the series applied (--kernel-tree); absent: the
   * git: input's repository, $RPROC_REVIEW_KERNEL_TREE, or the current directory when it is one.
   */
  kernelTree?: string;
  /**
   * On a kernel tree, keep the hand model's remoteproc core and virtio as the drivers' environment instead of
   * the tree's C (default: $RPROC_REVIEW_MODEL_CORE); a string says why, for the `ran:` line.
   */
  modelCore?: boolean | string;
}

function modelCore(opts: SubjectOptions): string | null {
  if (typeof opts.modelCore === "string") return opts.modelCore;
  const asked = `the hand model's core is asked for`;
  if (opts.modelCore !== undefined) return opts.modelCore ? asked : null;
  const v = process.env[MODEL_CORE_ENV];
  return v !== undefined && v !== "" && v !== "0" ? `${asked} ($${MODEL_CORE_ENV})` : null;
}

function modelOnly(opts: SubjectOptions): boolean {
  if (opts.modelOnly !== undefined) return opts.modelOnly;
  const v = process.env[MODEL_ONLY_ENV];
  return v !== undefined && v !== "" && v !== "0";
}

/** The STM32 driver among a tree report's files: the tree's stm32_rproc.c, when it is the posted code's result. */
const STM32_FILE = "drivers/remoteproc/stm32_rproc.c";
/** The core's ELF helpers, run from C beside a tree's STM32 driver (the hand model's core calls them). */
const ELF_FILE = "drivers/remoteproc/remoteproc_elf_loader.c";
/** The core and its virtio transport: run from C with the drivers when they lower (drivers.ts). */
const CORE_FILE = "drivers/remoteproc/remoteproc_core.c";
const VIRTIO_FILE = "drivers/remoteproc/remoteproc_virtio.c";
/** The environment variable that keeps the hand model's core on a tree (the drivers still run from C). */
export const MODEL_CORE_ENV = "RPROC_REVIEW_MODEL_CORE";

/**
 * What a series runs from C on a kernel tree: the tree's stm32_rproc.c with the series applied, together
 * with the TEE client driver the series creates, on the tree's remoteproc headers (src/interp/env/drivers.ts);
 * the remoteproc core, ELF loader and virtio stay the hand model (they are the drivers' environment). A file
 * whose patch did not apply (or whose header's did not) is the hand model's, and says why. When the STM32
 * driver falls back, a created TEE driver the tree can run runs as with no tree (on the environment's
 * headers).
 */
export async function treeDesign(
  series: Series,
  report: TreeReport,
  opts: { modelCore?: string | null } = {},
): Promise<Pick<Design, "tee" | "teeStubs" | "stm32" | "ran">> {
  const parser = await cParser();
  const runnable = runnableFiles(report);
  const stm32 = runnable.find((f) => f.path === STM32_FILE) ?? null;
  const elf = runnable.find((f) => f.path === ELF_FILE) ?? null;
  const coreSrc = runnable.find((f) => f.path === CORE_FILE) ?? null;
  const virtioSrc = runnable.find((f) => f.path === VIRTIO_FILE) ?? null;
  const created = teeDriverFile(report);
  if (stm32 === null) {
    // No STM32 driver from the tree: the TEE driver the series creates runs as it does with no tree, unless
    // the tree says it falls back too (a header patch it includes did not apply): then it is the model's.
    if (created === null)
      return { teeStubs: stubsImpl(lowerSeriesStubs(series, parser)), ran: ranOf(report, new Set()) };
    const c = seriesCDesign(lowerSeriesC(series, parser));
    const fromC = (c.ran ?? []).filter((r) => r.from === "C").map((r) => r.file);
    return {
      ...(c.tee === undefined ? {} : { tee: c.tee }),
      teeStubs: c.teeStubs,
      ran: ranOf(report, new Set(fromC)),
    };
  }
  const headers = loadOrder(report).filter((f) => f.path.endsWith(".h"));
  const drivers = {
    headers,
    tee: created === null ? null : { path: created.path, text: created.text },
    stm32: { path: stm32.path, text: stm32.text },
    elf: elf === null ? null : { path: elf.path, text: elf.text },
  };
  // The core and its virtio transport from C too, when both are the tree's and lower with the drivers.
  const withCore =
    opts.modelCore != null
      ? { loaded: null, why: opts.modelCore }
      : await treeCore(parser, drivers, coreSrc, virtioSrc);
  const fromC = new Set([
    stm32.path,
    ...(elf === null ? [] : [elf.path]),
    ...headers.map((h) => h.path),
    ...(created === null ? [] : [created.path]),
    ...(withCore.loaded === null ? [] : [CORE_FILE, VIRTIO_FILE]),
  ]);
  const ran = ranOf(report, fromC, withCore.why);
  // A hand-model STM32 driver on a kernel with CONFIG_REMOTEPROC_TEE=n calls the posted header's stubs (the
  // model's column, for the two-way check); the tree's own C carries them in its build of that config.
  const teeStubs = stubsImpl(lowerSeriesStubs(series, parser));
  let impl: Pick<Design, "tee" | "stm32">;
  try {
    impl = interpretedTreeDrivers(withCore.loaded ?? loadTreeDrivers(parser, drivers));
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    impl = {
      ...(created === null ? {} : { tee: unloadableTeeDriver(created.path, why) }),
      stm32: unloadableTeeDriver(stm32.path, why),
    };
  }
  const withoutTee = stm32WithoutTee(
    parser,
    headers,
    stm32,
    elf,
    ran,
    withCore.loaded === null ? null : { core: coreSrc, virtio: virtioSrc },
  );
  if (impl.stm32 !== undefined) impl = { ...impl, stm32: { ...impl.stm32, withoutTee: withoutTee.impl } };
  return { ...impl, teeStubs, ran: [...ran, ...withoutTee.ran] };
}

/** The config of the STM32 driver's second build, as the `ran:` line names it. */
const WITHOUT_TEE = "CONFIG_REMOTEPROC_TEE=n";

/**
 * The tree's STM32 driver (and the ELF loader beside it) lowered again with CONFIG_REMOTEPROC_TEE=n, for the
 * config scenarios: no TEE client driver is built, and its calls to rproc_tee_*() are remoteproc_tee.h's
 * static inline stubs, part of its own program. What ran says so (entries of that config); when it does
 * not lower, the config cells are unknown naming why.
 */
function stm32WithoutTee(
  parser: Parser,
  headers: readonly SourceFile[],
  stm32: SourceFile,
  elf: SourceFile | null,
  ran: readonly RanFile[],
  /** The core and virtio transport, when they run from C in the main build. */
  core: { core: SourceFile | null; virtio: SourceFile | null } | null = null,
): { impl: Stm32DriverImpl; ran: RanFile[] } {
  const whyOf = (file: string) => ran.find((r) => r.file === file)?.why ?? "the kernel tree's";
  const stubHeader = headers.find((h) => /(^|\/)remoteproc_tee\.h$/.test(h.path)) ?? null;
  try {
    const loaded = loadTreeDrivers(parser, {
      headers,
      tee: null,
      stm32,
      elf,
      ...(core === null ? {} : { core: core.core, virtio: core.virtio }),
      config: TREE_CONFIG_WITHOUT_TEE,
    });
    const coreProblem = loaded.problems.find(
      (p) => p.file === core?.core?.path || p.file === core?.virtio?.path,
    );
    if (coreProblem !== undefined)
      throw new Error(
        `the core does not lower with the drivers: ${coreProblem.file}:${coreProblem.line}: ${coreProblem.what}`,
      );
    const impl = interpretedTreeDrivers(loaded).stm32;
    if (impl === undefined) throw new Error("no STM32 driver in the program");
    return {
      impl,
      ran: [core?.core ?? null, core?.virtio ?? null, elf, stm32, stubHeader]
        .filter((f): f is SourceFile => f !== null)
        .map((f) => ({ file: f.path, from: "C", why: whyOf(f.path), config: WITHOUT_TEE })),
    };
  } catch (e) {
    const why = `lowered with ${WITHOUT_TEE}: ${e instanceof Error ? e.message : String(e)}`;
    return {
      impl: unloadableTeeDriver(stm32.path, why),
      ran: [{ file: stm32.path, from: "not run", why, config: WITHOUT_TEE }],
    };
  }
}

/**
 * The drivers lowered with the tree's core and virtio transport (loaded), or why the core stays the hand
 * model's (loaded null): it is not in the tree (or its patch did not apply), or it does not lower.
 */
async function treeCore(
  parser: Parser,
  drivers: Omit<Parameters<typeof loadTreeDrivers>[1], "core" | "virtio">,
  core: SourceFile | null,
  virtio: SourceFile | null,
): Promise<{ loaded: LoadedTreeDrivers | null; why: string }> {
  if (core === null || virtio === null)
    return {
      loaded: null,
      why: `${core === null ? CORE_FILE : VIRTIO_FILE} is not the tree's with the series applied`,
    };
  try {
    const loaded = loadTreeDrivers(parser, {
      ...drivers,
      core: { path: core.path, text: core.text },
      virtio: { path: virtio.path, text: virtio.text },
    });
    // A problem of the drivers' own files is theirs with or without the core (an unknown where reached).
    const mine = loaded.problems.filter((p) => p.file === core.path || p.file === virtio.path);
    if (mine.length > 0) {
      const p = mine[0] as LowerProblem;
      return {
        loaded: null,
        why: `the core does not lower with the drivers (${mine.length} problems; the first at ${p.file}:${p.line}: ${p.what})`,
      };
    }
    // Everything the core reaches is in the environment (what only paths no STM32 world takes call may not
    // be: drivers.ts CORE_UNREACHED, each an unknown naming it where a cell reaches it).
    const needs = await coreNeeds(loaded);
    if (needs.length > 0)
      return {
        loaded: null,
        why: `the environment lacks what the core calls: ${needs.map((n) => `${n.name} (${n.file}:${n.line})`).join(", ")}`,
      };
    return { loaded, why: "" };
  } catch (e) {
    return {
      loaded: null,
      why: `the core does not lower with the drivers: ${e instanceof Error ? e.message : String(e)}`,
    };
  }
}

/** Per file of a tree report: C when in `fromC`, else the model with why (its provenance). */
function ranOf(report: TreeReport, fromC: ReadonlySet<string>, coreWhy = ""): RanFile[] {
  const ran: RanFile[] = [];
  const moved = (path: string): string[] =>
    describeMoved(
      report.patches.map((p) => ({ ...p, applied: p.applied.filter((a) => a.path === path) })),
      report.summary.total,
    );
  for (const f of report.files) {
    const why = describeProvenance(f.provenance);
    const warnings = moved(f.path);
    // A file the tree was to give that the model runs instead: the reason goes with every `ran:` line.
    const p = f.provenance;
    const fallback =
      p.kind === "fallback" && p.cause !== "no-tree" ? { fallback: `on the tree: ${p.reason}` } : {};
    if (fromC.has(f.path))
      ran.push({ file: f.path, from: "C", why, ...(warnings.length > 0 ? { warnings } : {}) });
    else if (MODELLED_FILES.includes(f.path) && f.role === "source")
      ran.push({
        file: f.path,
        from: "model",
        why:
          f.text === null
            ? why
            : (f.path === CORE_FILE || f.path === VIRTIO_FILE) && coreWhy !== ""
              ? `${why}; the hand model runs it as the drivers' environment (${coreWhy})`
              : `${why}; the hand model runs it as the drivers' environment`,
        ...fallback,
      });
    else if (f.role === "source" && f.provenance.kind === "fallback")
      ran.push({ file: f.path, from: "model", why, ...fallback });
    else if (f.role === "source" && ranFrom(report, f.path) === "C")
      ran.push({ file: f.path, from: "not run", why: `${why}; no hand model of it, not driven from C yet` });
  }
  return ran;
}

/**
 * The baseline of a review whose sides ran the kernel's own files from C on a kernel tree: that tree on the
 * series' base, without the series, from C as the sides ran it (core, virtio, ELF loader, STM32 driver), with
 * mainline's facts over the hand model for the rest. What the tree's own code raises is then pre-existing,
 * never carried or introduced by the series, and the three sides' interleavings run the same core. Null when no
 * side ran those files from C (the hand model's mainline is the baseline then).
 */
export async function treeMainline(
  series: Series,
  sides: readonly ReviewSubject[],
  opts: SubjectOptions = {},
  input?: string,
): Promise<ReviewSubject | null> {
  if (
    !sides.some((s) => (s.design.ran ?? []).some((r) => r.from === "C" && MODELLED_SOURCES.includes(r.file)))
  )
    return null;
  if (modelOnly(opts)) return null;
  const tree = await resolveKernelTree({ option: opts.kernelTree, input });
  if (tree === null) return null;
  const bare: Series = {
    ...series,
    id: "mainline",
    title: "the kernel tree without the series",
    patches: [],
    total: 0,
    cover: null,
    prerequisites: [],
  };
  const parser = await cParser();
  const subject = seriesSubject(bare, mapSeries(bare, parser), tree.dir, "mainline");
  const design = await treeDesign(bare, await applySeriesToTree(bare, tree.dir), {
    modelCore: modelCore(opts),
  });
  const c = withC(subject, design);
  return { ...c, design: { ...c.design, facts: MAINLINE } };
}

/**
 * The sides of a review, and the runReview option of its baseline, where a side ran the kernel's own files
 * from C on a tree (treeMainline): the built-in mainline, when it is a side, is that tree without the series
 * too, so `--against mainline` compares the posted code with the tree it applies to, on one base.
 */
export async function withTreeMainline(
  series: Series,
  a: ReviewSubject,
  b: ReviewSubject,
  opts: SubjectOptions = {},
  input?: string,
): Promise<{ a: ReviewSubject; b: ReviewSubject; run: Pick<ReviewRunOptions, "mainline"> }> {
  const mainline = await treeMainline(series, [a, b], opts, input);
  if (mainline === null) return { a, b, run: {} };
  const onTree = (s: ReviewSubject) => (s.design.facts === MAINLINE ? mainline : s);
  return { a: onTree(a), b: onTree(b), run: { mainline } };
}

/**
 * A series read and mapped with the C parser. The TEE client driver it creates runs from C (src/interp/env/series.ts), and on
 * a kernel tree the tree's STM32 driver with the series applied too (treeDesign), unless the hand model is
 * asked for (--model-only, $RPROC_REVIEW_MODEL_ONLY); its header's CONFIG_REMOTEPROC_TEE=n stubs are posted
 * C either way (the hand model has no such config).
 */
export async function mappedSubject(
  series: Series,
  spec: string,
  opts: SubjectOptions = {},
): Promise<ReviewSubject> {
  const parser = await cParser();
  const subject = seriesSubject(series, mapSeries(series, parser), spec);
  if (modelOnly(opts)) return withC(subject, { teeStubs: stubsImpl(lowerSeriesStubs(series, parser)) });
  const tree = await resolveKernelTree({ option: opts.kernelTree, input: spec });
  if (tree === null) return withC(subject, seriesCDesign(lowerSeriesC(series, parser)));
  return withC(
    subject,
    await treeDesign(series, await applySeriesToTree(series, tree.dir), { modelCore: modelCore(opts) }),
  );
}

/**
 * A built-in version, with the CONFIG_REMOTEPROC_TEE=n stubs of the remoteproc_tee.h its mails post (its TEE
 * driver stays the hand model): from `mails`, else from the mails of the default directory (defaultMailsDir)
 * when they are there; without them, the config scenarios are unknown naming that.
 */
export async function builtinWithStubs(
  v: BuiltinVersion,
  mapped: MappedFacts | null,
  mails: Series | null,
): Promise<ReviewSubject> {
  const teeStubs = mails === null ? await builtinTeeStubs(v.id) : await stubsOf(v.id, mails);
  return withC(builtinSubject(v, mapped, mails), { teeStubs });
}

async function stubsOf(id: string, mails: Series | null): Promise<TeeDriverImpl> {
  return mails === null
    ? missingTeeStubs(
        `the mails of built-in version ${id} are not at hand (--mails DIR with ${id}/, $RPROC_REVIEW_MAILS), so its remoteproc_tee.h is not either`,
      )
    : stubsImpl(lowerSeriesStubs(mails, await cParser()));
}

/** The CONFIG_REMOTEPROC_TEE=n stubs of a built-in version (its mails in `mailsDir`, default defaultMailsDir). */
export async function builtinTeeStubs(id: string, mailsDir?: string): Promise<TeeDriverImpl> {
  const dir = mailsDir ?? (await defaultMailsDir());
  return stubsOf(id, await builtinMails(dir, id).catch(() => null));
}

/** A built-in id, else an input (path, pr:, git:) read and mapped. */
export async function resolveVersion(
  spec: string,
  mailsDir?: string,
  inputs: InputOptions = {},
  opts: SubjectOptions = {},
): Promise<ReviewSubject> {
  const v = builtinVersion(spec);
  if (v !== undefined)
    return builtinWithStubs(v, await storedMapping(v.id), await builtinMails(mailsDir, v.id));
  return mappedSubject(await loadInput(spec, inputs), spec, opts);
}
