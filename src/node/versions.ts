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
import { builtinSubject, type ReviewSubject, seriesSubject } from "../review/run.ts";
import { mapSeries } from "../semantics/map/index.ts";
import { BUILTIN_VERSIONS, builtinVersion } from "../semantics/versions.ts";
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

/** A series read and mapped with the C parser. */
export async function mappedSubject(series: Series, spec: string): Promise<ReviewSubject> {
  return seriesSubject(series, mapSeries(series, await cParser()), spec);
}

/** A built-in id, else an input (path, pr:, git:) read and mapped. */
export async function resolveVersion(
  spec: string,
  mailsDir?: string,
  inputs: InputOptions = {},
): Promise<ReviewSubject> {
  const v = builtinVersion(spec);
  if (v !== undefined)
    return builtinSubject(v, await storedMapping(v.id), await builtinMails(mailsDir, v.id));
  return mappedSubject(await loadInput(spec, inputs), spec);
}
