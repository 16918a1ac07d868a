/**
 * Resolves the series inputs every CLI command takes: a path (mbox file, .eml, directory of .eml or
 * format-patch files), `pr:owner/repo#n` (GitHub pull request) or `git:<repo dir>:<a>..<b>` (a range of a
 * local git tree). Node-only: reads files and runs git; the parsing itself is src/series (Workers-safe).
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { InputError, UsageError } from "../errors.ts";
import "./hash.ts";
// The series modules one by one, not src/series/index.ts: it holds the GitHub reader, whose octokit only a
// pr: input loads (below), as simple-git only a git: input and the archive readers only a message-id.
import { DEFAULT_LIMITS, parseMbox, parseMessages, type RawMessage } from "../series/ingest.ts";
import { isBlank, splitMbox } from "../series/mbox.ts";
import { messageIdOf } from "../series/thread.ts";
import type { IngestLimits, Series } from "../series/types.ts";

export interface InputOptions {
  /** A local archive (public-inbox, mbox, directory of mails) where message-id inputs are looked up. */
  archive?: string;
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
  const bytes = new Uint8Array(await readFile(path));
  // b4 am writes the patches as <name>.mbx and the cover letter beside it as <name>.cover.
  const cover = path.endsWith(".mbx") ? `${path.slice(0, -4)}.cover` : null;
  const coverBytes = cover === null ? null : await readFile(cover).catch(() => null);
  if (coverBytes !== null && cover !== null) {
    const parts = splitMbox(bytes).map((b, i) => ({ name: `${spec}#${i + 1}`, bytes: b }));
    return parseMessages(
      [{ name: basename(cover), bytes: new Uint8Array(coverBytes) }, ...parts],
      spec,
      limits,
    );
  }
  return parseMbox(bytes, spec, limits);
}

/** An mbox on standard input (`-`), at most the input limit. */
async function loadStdin(limits: IngestLimits): Promise<Series[]> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of process.stdin) {
    size += (c as Buffer).length;
    if (size > limits.maxInputBytes)
      throw new InputError(`input too large: over ${limits.maxInputBytes} bytes`, { subject: "stdin" });
    chunks.push(c as Buffer);
  }
  const bytes = new Uint8Array(Buffer.concat(chunks));
  if (isBlank(bytes)) throw new InputError("nothing on standard input", { subject: "stdin" });
  return parseMbox(bytes, "stdin", limits);
}

/** The series of a thread named by a message-id or lore URL: the one that holds that message. */
async function loadMessageId(spec: string, id: string, opts: InputOptions, limits: IngestLimits) {
  const { loadThread } = await import("./message-id.ts"); // the archive readers, for a message-id only
  const mails = await loadThread(id, {
    ...(opts.archive !== undefined ? { archive: opts.archive } : {}),
    maxBytes: limits.maxInputBytes,
  });
  const all = await parseMessages(mails, spec, limits);
  const holding = all.filter((s) => s.cover?.messageId === id || s.patches.some((p) => p.messageId === id));
  if (holding.length > 0) return holding;
  if (all.length > 0) return all;
  throw new InputError(`the thread of <${id}> holds no patch series`, { subject: spec });
}

async function loadGitRange(spec: string, limits: IngestLimits): Promise<Series[]> {
  const m = GIT_SPEC.exec(spec);
  if (!m) throw new UsageError(`not a git input: "${spec}" (expected git:<repo dir>:<a>..<b>)`);
  const [, dir, from, to] = m as unknown as [string, string, string, string];
  const info = await stat(dir).catch(() => null);
  if (!info?.isDirectory()) throw new InputError("no such directory", { subject: spec });
  const { simpleGit } = await import("simple-git");
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
    const { fetchPullRequest } = await import("../series/github.ts");
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
    throw new UsageError(
      "empty input: give a path, -, a message-id, a lore URL, pr:owner/repo#n or git:<dir>:<a>..<b>",
    );
  if (spec === "-") return loadStdin(limits);
  const archive = opts.archive ?? process.env.RPROC_REVIEW_ARCHIVE;
  const id = messageIdOf(spec);
  // A path that exists as written is a path, even when it looks like a message-id.
  if (id !== null && (await stat(resolve(spec)).catch(() => null)) === null)
    return loadMessageId(spec, id, archive !== undefined ? { ...opts, archive } : opts, limits);
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
