/**
 * Resolves the series inputs every CLI command takes: a path (mbox file, .eml, directory of .eml or
 * format-patch files), `pr:owner/repo#n` (GitHub pull request) or `git:<repo dir>:<a>..<b>` (a range of a
 * local git tree). Node-only: reads files and runs git; the parsing itself is src/series (Workers-safe).
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { simpleGit } from "simple-git";
import { InputError, UsageError } from "../errors.ts";
import {
  DEFAULT_LIMITS,
  fetchPullRequest,
  type IngestLimits,
  isBlank,
  parseMbox,
  parseMessages,
  type RawMessage,
  type Series,
  splitMbox,
} from "../series/index.ts";

export interface InputOptions {
  /** GitHub API root for pr: inputs; default env GITHUB_API_URL, else api.github.com. */
  githubApiUrl?: string;
  /** GitHub token for pr: inputs; default env GITHUB_TOKEN. */
  githubToken?: string;
  limits?: Partial<IngestLimits>;
}

const MAIL_FILE = /\.(?:eml|patch|mbox|mbx|diff|txt)$/i;
const GIT_SPEC = /^git:(.+):([^:\s]+?)\.\.([^:\s]+)$/;

/** Sorts "2.eml" before "10.eml" and "0001-…" in order. */
const natural = new Intl.Collator("en", { numeric: true }).compare;

async function readDirectory(dir: string, limits: IngestLimits): Promise<RawMessage[]> {
  const names = (await readdir(dir)).filter((n) => !n.startsWith(".") && MAIL_FILE.test(n)).sort(natural);
  if (names.length === 0) {
    throw new InputError("no .eml, .patch or .mbox files in this directory", { subject: dir });
  }
  const messages: RawMessage[] = [];
  let total = 0;
  for (const name of names) {
    const path = join(dir, name);
    if (!(await stat(path)).isFile()) continue;
    const bytes = new Uint8Array(await readFile(path));
    total += bytes.length;
    if (total > limits.maxInputBytes) {
      throw new InputError(`input too large: over ${limits.maxInputBytes} bytes`, { subject: dir });
    }
    if (isBlank(bytes)) {
      throw new InputError("empty file", { subject: path });
    }
    const parts = splitMbox(bytes);
    parts.forEach((part, i) => {
      messages.push({ name: parts.length === 1 ? path : `${path}#${i + 1}`, bytes: part });
    });
  }
  return messages;
}

async function loadPath(spec: string, limits: IngestLimits): Promise<Series[]> {
  const path = resolve(spec);
  const info = await stat(path).catch(() => null);
  if (!info) throw new InputError("no such file or directory", { subject: spec });
  if (info.isDirectory()) return parseMessages(await readDirectory(path, limits), spec, limits);
  if (info.size > limits.maxInputBytes) {
    throw new InputError(`input too large: ${info.size} bytes (limit ${limits.maxInputBytes})`, {
      subject: spec,
    });
  }
  return parseMbox(new Uint8Array(await readFile(path)), spec, limits);
}

async function loadGitRange(spec: string, limits: IngestLimits): Promise<Series[]> {
  const m = GIT_SPEC.exec(spec);
  if (!m) throw new UsageError(`not a git input: "${spec}" (expected git:<repo dir>:<a>..<b>)`);
  const [, dir, from, to] = m as unknown as [string, string, string, string];
  const info = await stat(dir).catch(() => null);
  if (!info?.isDirectory()) throw new InputError("no such directory", { subject: spec });
  const git = simpleGit(resolve(dir));
  let text: string;
  try {
    const count = Number((await git.raw(["rev-list", "--count", `${from}..${to}`])).trim());
    if (count === 0) throw new InputError(`the range ${from}..${to} holds no commits`, { subject: spec });
    text = await git.raw(["format-patch", "--stdout", "--numbered", `--base=${from}`, `${from}..${to}`]);
  } catch (e) {
    if (e instanceof InputError) throw e;
    const why = e instanceof Error ? e.message.trim().split("\n")[0] : String(e);
    throw new InputError(`git cannot read the range ${from}..${to}: ${why}`, { subject: spec, cause: e });
  }
  return parseMbox(new TextEncoder().encode(text), spec, limits);
}

/** Every series an input holds (an mbox can hold several). */
export async function loadSeriesFrom(spec: string, opts: InputOptions = {}): Promise<Series[]> {
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  if (spec.startsWith("pr:")) {
    const baseUrl = opts.githubApiUrl ?? process.env.GITHUB_API_URL;
    const token = opts.githubToken ?? process.env.GITHUB_TOKEN;
    return [
      await fetchPullRequest(spec, {
        ...(baseUrl ? { baseUrl } : {}),
        ...(token ? { token } : {}),
        limits,
      }),
    ];
  }
  if (spec.startsWith("git:")) return loadGitRange(spec, limits);
  if (spec.trim() === "")
    throw new UsageError("empty input: give a path, pr:owner/repo#n or git:<dir>:<a>..<b>");
  return loadPath(spec, limits);
}

const SELECT = /^(.+)@(v\d+(?:\.\d+)?(?:-resend)?)$/;

/**
 * An input and the series picked in it: `archive.mbox@v16` is the v16 series of archive.mbox (a path that
 * exists as written is taken whole, so a file named `x@v2` is still a file).
 */
export async function splitSelection(spec: string): Promise<{ input: string; series: string | null }> {
  const m = SELECT.exec(spec);
  if (m === null || spec.startsWith("pr:") || (await stat(spec).catch(() => null)) !== null) {
    return { input: spec, series: null };
  }
  return { input: m[1] as string, series: m[2] as string };
}

/**
 * The one series of an input (`<input>@<id>` picks one of several); refuses, listing them, when the input
 * holds several and none is picked.
 */
export async function loadInput(spec: string, opts: InputOptions = {}): Promise<Series> {
  const { input, series } = await splitSelection(spec);
  const all = await loadSeriesFrom(input, opts);
  const list = () =>
    all
      .slice(0, 10)
      .map((s) => `${s.id} "${s.title}" (${s.patches.length}/${s.total} patches)`)
      .join("; ") + (all.length > 10 ? `; and ${all.length - 10} more` : "");
  if (series !== null) {
    const picked = all.find((s) => s.id === series);
    if (picked) return picked;
    throw new InputError(`holds no series ${series}; it holds ${list()}`, { subject: input });
  }
  if (all.length === 1) return all[0] as Series;
  throw new InputError(
    `holds ${all.length} different series, give one at a time (${input}@<id>): ${list()}`,
    { subject: spec },
  );
}

export async function loadInputs(specs: readonly string[], opts: InputOptions = {}): Promise<Series[]> {
  const out: Series[] = [];
  for (const spec of specs) out.push(await loadInput(spec, opts));
  return out;
}
