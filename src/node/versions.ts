/**
 * Resolving a version named on the command line (Node side): a built-in id, with the mapper's stored reading
 * of its mails (patches/<id>/facts.json) and, when a mail directory is at hand, the mails themselves; or an
 * input (path, pr:owner/repo#n, git:<dir>:<a>..<b>) read and mapped.
 */
import { readFile, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { BuiltinManifest } from "../compare/against.ts";
import type { MappedFacts } from "../compare/sides.ts";
import { InputError } from "../errors.ts";
import {
  lowerSeriesC,
  lowerSeriesStubs,
  missingTeeStubs,
  seriesCDesign,
  stubsImpl,
} from "../interp/env/series.ts";
import { builtinSubject, type ReviewSubject, seriesSubject, withC } from "../review/run.ts";
import type { Design } from "../scenarios/run.ts";
import type { TeeDriverImpl } from "../scenarios/world.ts";
import { mapSeries } from "../semantics/map/index.ts";
import { BUILTIN_VERSIONS, type BuiltinVersion, builtinVersion } from "../semantics/versions.ts";
import type { Series } from "../series/types.ts";
import { cParser } from "./c-parser.ts";
import { type InputOptions, loadInput } from "./inputs.ts";

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
}

function modelOnly(opts: SubjectOptions): boolean {
  if (opts.modelOnly !== undefined) return opts.modelOnly;
  const v = process.env[MODEL_ONLY_ENV];
  return v !== undefined && v !== "" && v !== "0";
}

/**
 * What a series runs from C with no kernel tree (src/interp/env/series.ts): the TEE client driver it creates
 * whole (with the headers it creates), interpreted with the hand model as the rest of the kernel, and its
 * remoteproc_tee.h's CONFIG_REMOTEPROC_TEE=n stubs; every other file stays the model. A driver that does not
 * load runs as unknown cells naming why (never the hand model in its place).
 */
export async function cDesign(series: Series): Promise<Pick<Design, "tee" | "teeStubs" | "ran">> {
  return seriesCDesign(lowerSeriesC(series, await cParser()));
}

/**
 * A series read and mapped with the C parser. The TEE client driver it creates runs from C (cDesign) unless
 * the hand model is asked for (--model-only, $RPROC_REVIEW_MODEL_ONLY); its header's CONFIG_REMOTEPROC_TEE=n
 * stubs are posted C either way (the hand model has no such config).
 */
export async function mappedSubject(
  series: Series,
  spec: string,
  opts: SubjectOptions = {},
): Promise<ReviewSubject> {
  const parser = await cParser();
  const subject = seriesSubject(series, mapSeries(series, parser), spec);
  if (modelOnly(opts)) return withC(subject, { teeStubs: stubsImpl(lowerSeriesStubs(series, parser)) });
  return withC(subject, seriesCDesign(lowerSeriesC(series, parser)));
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
