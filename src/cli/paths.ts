/**
 * The paths a command line names, checked before any work: every one that is missing is named in one error
 * (exit 3), instead of the first one after a long run, or none when a missing directory only meant "skip".
 */
import { stat, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { InputError } from "../errors.ts";
import { builtinVersion } from "../semantics/versions.ts";
import { messageIdOf } from "../series/thread.ts";

export interface GivenPath {
  path: string;
  /** What it is for, as the command line says it: "input", "--mails", "--variant"… */
  what: string;
  /** What it must be (default: either). */
  kind?: "file" | "directory";
}

async function problem(p: GivenPath): Promise<string | null> {
  const info = await stat(p.path).catch((e: NodeJS.ErrnoException) => e);
  if (info instanceof Error) {
    if (info.code === "ENOENT")
      return p.kind === "directory" ? "no such directory" : "no such file or directory";
    if (info.code === "ENOTDIR") return "a path component is not a directory";
    if (info.code === "EACCES") return "permission denied";
    return info.code ?? info.message;
  }
  if (p.kind === "directory" && !info.isDirectory()) return "not a directory";
  if (p.kind === "file" && info.isDirectory()) return "a directory, not a file";
  return null;
}

/** Throws one InputError naming every path of `paths` that does not exist or is not what it must be. */
export async function requirePaths(paths: readonly GivenPath[]): Promise<void> {
  const found = await Promise.all(paths.map(async (p) => ({ ...p, why: await problem(p) })));
  const bad = found.filter((p): p is GivenPath & { why: string } => p.why !== null);
  const [first] = bad;
  if (first === undefined) return;
  if (bad.length === 1) throw new InputError(`${first.why} (${first.what})`, { subject: first.path });
  throw new InputError(
    `${bad.length} paths cannot be used: ${bad.map((p) => `${p.path} (${p.what}): ${p.why}`).join("; ")}`,
  );
}

const exists = async (path: string): Promise<boolean> => (await stat(path).catch(() => null)) !== null;

/**
 * The path on disk a series input names: `git:<dir>:<a>..<b>` its directory, `<path>@<id>` its path (when the
 * whole spec is not itself a path); null for what names no path: `pr:`, a built-in version id, `-` (stdin),
 * a message-id or lore URL (unless a file has that name, as src/node/inputs.ts reads it).
 */
export async function inputPath(spec: string): Promise<GivenPath | null> {
  if (spec.startsWith("pr:") || builtinVersion(spec) !== undefined || spec.trim() === "" || spec === "-")
    return null;
  const git = /^git:(.+):[^:\s]+?\.\.[^:\s]+$/.exec(spec);
  if (git !== null) return { path: git[1] as string, what: `the repository of ${spec}`, kind: "directory" };
  if (spec.startsWith("git:")) return null; // a malformed git: spec is a usage error, said where it is read
  const selection = /^(.+)@v\d+(?:\.\d+)?(?:-resend)?$/.exec(spec);
  const path = selection !== null && !(await exists(spec)) ? (selection[1] as string) : spec;
  if (messageIdOf(path) !== null && !(await exists(path))) return null;
  return { path, what: "input" };
}

/** Whether a version spec that is no built-in id was meant as a path (rather than a mistyped id like v17). */
export function looksLikePath(spec: string): boolean {
  return /[/\\]/.test(spec) || /\.(?:eml|patch|mbox|mbx|diff|txt|json)$/i.test(spec) || spec.startsWith(".");
}

/** The paths of series inputs, labelled (`what` replaces "input" when given). */
export async function inputPaths(specs: readonly string[], what?: string): Promise<GivenPath[]> {
  const out: GivenPath[] = [];
  for (const spec of specs) {
    const p = await inputPath(spec);
    if (p !== null) out.push(what !== undefined && p.what === "input" ? { ...p, what } : p);
  }
  return out;
}

/** The paths the input options common to the review commands name (each optional). */
export interface CommandPaths {
  inputs?: readonly string[];
  against?: string;
  /** Comma-separated inputs (review --history). */
  history?: string;
  store?: string;
  archive?: string;
  mailsDir?: { path: string; what: string };
  out?: string;
}

/** Checks every path of `c` at once (requirePaths): one error naming each missing one. */
export async function requireCommandPaths(c: CommandPaths): Promise<void> {
  const history = c.history?.split(",").filter((s) => s.trim() !== "") ?? [];
  await requirePaths([
    ...(await inputPaths(c.inputs ?? [])),
    ...(await inputPaths(c.against === undefined ? [] : [c.against], "--against")),
    ...(await inputPaths(history, "--history")),
    ...(c.store === undefined ? [] : [{ path: c.store, what: "--store", kind: "directory" as const }]),
    ...(c.archive === undefined ? [] : [{ path: c.archive, what: "--archive" }]),
    ...(c.mailsDir === undefined ? [] : [{ ...c.mailsDir, kind: "directory" as const }]),
    ...(c.out === undefined ? [] : [outputDirectory(c.out)]),
  ]);
}

/** The directory --out writes into, which must exist (the file itself is created or replaced). */
export function outputDirectory(out: string, what = "--out"): GivenPath {
  return { path: dirname(resolve(out)), what: `the directory of ${what} ${out}`, kind: "directory" };
}

/** Writes a file the command line named; a path that cannot be written is bad input (exit 3), not a bug. */
export async function writeOutput(path: string, data: string | Uint8Array, what = "--out"): Promise<void> {
  try {
    await writeFile(path, data);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "its directory does not exist"
        : code === "EISDIR"
          ? "is a directory"
          : code === "EACCES"
            ? "permission denied"
            : (code ?? String(e));
    throw new InputError(`cannot write (${what}): ${why}`, { subject: path, cause: e });
  }
}
