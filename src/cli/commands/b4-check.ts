import { createHash } from "node:crypto";
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import type PostalMime from "postal-mime";
import { InputError, UsageError } from "../../errors.ts";
import { loadStore } from "../../node/series-store.ts";
import type { B4Check, B4Context } from "../../report/index.ts";
import type { ReviewReport } from "../../review/report.ts";
import type { ReviewSubject } from "../../review/run.ts";
import { builtinVersion } from "../../semantics/versions.ts";
import type { Series } from "../../series/index.ts";
import { VERSION } from "../../version.ts";
import { printJson, printText } from "../output.ts";

/** The headers of the message on stdin that locate it in a series. */
interface Message {
  messageId: string;
  inReplyTo: string | null;
  references: string[];
  context: B4Context["message"];
  /** Code identity of its diff (a `b4 prep` patch has its own message-id, not the posted one). */
  patchId: string | null;
}

const ids = (v: string | undefined): string[] =>
  [...(v ?? "").matchAll(/<([^<>\s]+)>/g)].map((m) => m[1] as string);

async function readStdin(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

/** The message's place, or null when it is neither a patch nor a cover letter (a reply, a plain mail). */
async function readMessage(bytes: Uint8Array): Promise<Message | null> {
  const { default: PostalMime } = await import("postal-mime");
  const { parseSubject } = await import("../../series/subject.ts");
  let email: Awaited<ReturnType<typeof PostalMime.parse>>;
  try {
    email = await PostalMime.parse(bytes);
  } catch (e) {
    throw new InputError(`not a readable mail: ${e instanceof Error ? e.message : String(e)}`, {
      subject: "stdin",
    });
  }
  const info = parseSubject(email.subject ?? "");
  if (info.isReply || !info.isPatch) return null;
  return {
    messageId: ids(email.messageId)[0] ?? "",
    inReplyTo: ids(email.inReplyTo)[0] ?? null,
    references: ids(email.references),
    context: info.index === 0 ? { kind: "cover" } : { kind: "patch", index: info.index ?? 1 },
    patchId: null,
  };
}

/** The patch of the series with the message's code, when it is matched by patch id. */
function byPatchId(series: Series, m: Message): number | null {
  if (m.patchId === null) return null;
  return series.patches.find((p) => p.patchId === m.patchId)?.index ?? null;
}

/**
 * Message-ids b4's tracking data names (B4_TRACKING_FILE, passed to review checks): the thread's cover and
 * links, so the series is found in the store although the message checked is a local copy.
 */
async function trackedIds(): Promise<string[]> {
  const file = process.env.B4_TRACKING_FILE;
  if (!file) return [];
  const text = await readFile(file, "utf8").catch(() => "");
  return [...new Set([...text.matchAll(/[\w.+%-]+@[\w.-]+\.\w+/g)].map((x) => x[0]))];
}

function holds(series: Series, m: Message): boolean {
  const own = [series.cover?.messageId, ...series.patches.map((p) => p.messageId)];
  if (own.includes(m.messageId)) return true;
  const cover = series.cover?.messageId;
  if (cover !== undefined && (m.inReplyTo === cover || m.references.includes(cover))) return true;
  return byPatchId(series, m) !== null;
}

/** The series of the local store that holds the message, if any (src/node/series-store.ts). */
function fromStore(stored: readonly Series[], m: Message): Series | null {
  return stored.find((s) => holds(s, m)) ?? null;
}

/**
 * The version the series follows: its predecessor in the chain of the stored series, else the built-in version
 * it follows (src/compare/against.ts, with the manifests of patches/), with why.
 */
async function defaultAgainst(
  series: Series,
  stored: readonly Series[],
): Promise<{ a: ReviewSubject; why: string }> {
  const { defaultComparisonWhy, precedingInChain } = await import("../../compare/against.ts");
  const { builtinManifests, builtinWithStubs, mappedSubject } = await import("../../node/versions.ts");
  const before = precedingInChain(series, stored);
  if (before !== null)
    return {
      a: await mappedSubject(before.series, before.series.origin),
      why: `the version it follows in the local store (linked by ${before.linkedBy})`,
    };
  const d = defaultComparisonWhy(series, await builtinManifests());
  const v = builtinVersion(d.id);
  if (v === undefined) throw new Error("the default comparison names no built-in version");
  return { a: await builtinWithStubs(v, null, null), why: d.why };
}

interface B4Options {
  series?: string;
  store?: string;
  against?: string;
  mails?: string;
  format?: string;
  cache?: string;
}

/** Where reviews are kept between the per-patch calls of one check run: $XDG_CACHE_HOME/rproc-review/b4. */
function cacheDir(opts: B4Options): string {
  return (
    opts.cache ??
    join(process.env.XDG_CACHE_HOME ?? join(process.env.HOME ?? tmpdir(), ".cache"), "rproc-review", "b4")
  );
}

/** How long a cached review serves the other patches of a check run. */
const CACHE_TTL_MS = 10 * 60_000;

/** A series is reviewed once: the report is cached by its code, the version compared and the tool's version. */
async function cachedReview(
  opts: B4Options,
  series: Series,
  against: string,
  run: () => Promise<ReviewReport>,
): Promise<ReviewReport> {
  const { seriesCodeId } = await import("../../series/patchid.ts");
  const key = createHash("sha256")
    .update(`${VERSION}\n${against}\n${series.cover?.messageId ?? ""}\n${seriesCodeId(series.patches)}`)
    .digest("hex")
    .slice(0, 32);
  const file = join(cacheDir(opts), `${key}.json`);
  // Kept for one check run (b4 calls the command once per patch), not across edits of the tool.
  const fresh = ((await stat(file).catch(() => null))?.mtimeMs ?? 0) > Date.now() - CACHE_TTL_MS;
  const hit = fresh ? await readFile(file, "utf8").catch(() => null) : null;
  if (hit !== null) {
    try {
      return JSON.parse(hit) as ReviewReport;
    } catch {
      // a torn write: review again
    }
  }
  const report = await run();
  try {
    await mkdir(cacheDir(opts), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(report));
    await rename(tmp, file);
  } catch {
    // No cache is no error: the next patch reviews again.
  }
  return report;
}

interface CheckResult {
  checks: B4Check[];
  report: ReviewReport | null;
  index: number | null;
}

async function check(opts: B4Options): Promise<CheckResult> {
  // Loaded here, not for --help: the mail parser, the mapper, the model and the review room.
  const { loadInput } = await import("../../node/inputs.ts");
  const { builtinTeeStubs, mappedSubject, resolveVersion, withTreeMainline } = await import(
    "../../node/versions.ts"
  );
  const { b4Checks } = await import("../../report/index.ts");
  const { runReview } = await import("../../review/run.ts");
  const { parseMessages } = await import("../../series/ingest.ts");
  const bytes = await readStdin();
  const message = await readMessage(bytes);
  if (message === null) return { checks: [], report: null, index: null };
  const own =
    message.context.kind === "patch" ? await parseMessages([{ name: "stdin", bytes }], "stdin") : [];
  message.patchId = own[0]?.patches[0]?.patchId ?? null;
  message.references.push(...(await trackedIds()));
  let series: Series | null = null;
  let spec = "stdin";
  if (opts.series !== undefined) {
    series = await loadInput(opts.series);
    spec = opts.series;
    if (!holds(series, message))
      throw new InputError(`the message <${message.messageId}> is not part of this series`, {
        subject: opts.series,
      });
  }
  const store = opts.store ?? process.env.RPROC_REVIEW_STORE;
  const stored = store !== undefined ? await loadStore(store) : [];
  if (series === null) series = fromStore(stored, message);
  const alone = series === null;
  if (series === null) {
    if (message.context.kind === "cover")
      return {
        checks: [
          {
            tool: "rproc-review",
            status: "warn",
            summary: "cover letter checked alone: no patch to run",
            details:
              "The rest of the series was neither given (--series) nor found in the local store, so nothing could be run. Give --series <input> to check the whole series.",
          },
        ],
        report: null,
        index: null,
      };
    series = own[0] ?? null;
    if (series === null) return { checks: [], report: null, index: null };
  }
  // A patch of a `b4 prep` branch is the series' patch with the same code.
  if (message.context.kind === "patch" && !alone) {
    const at = byPatchId(series, message);
    if (at !== null) message.context = { kind: "patch", index: at };
  }
  const whole = series;
  const report = await cachedReview(opts, whole, opts.against ?? "", async () => {
    const b = await mappedSubject(whole, spec);
    const { a, why } =
      opts.against !== undefined
        ? { a: await resolveVersion(opts.against, opts.mails), why: "given (--against)" }
        : await defaultAgainst(whole, stored);
    const sides = await withTreeMainline(whole, a, b, {}, spec);
    return (
      await runReview(sides.a, sides.b, {
        comparisonWhy: why,
        builtinStubs: (id) => builtinTeeStubs(id, opts.mails),
        ...sides.run,
      })
    ).report;
  });
  const index = message.context.kind === "patch" ? message.context.index : null;
  return { checks: b4Checks(report, { message: message.context, alone }), report, index };
}

export function register(program: Command): void {
  program
    .command("b4-check")
    .description(
      "b4 review check: read one patch or cover letter on stdin, review its series, print [{tool,status,summary,details}] ([] when there is nothing to say)",
    )
    .option("--series <input>", "the whole series the message belongs to (mbox, directory, pr:, git:)")
    .option(
      "--store <dir>",
      "directory of series ingested before, one Series JSON per file (default: $RPROC_REVIEW_STORE)",
    )
    .option(
      "--against <id|input>",
      "version to compare with (default: the one its changelog follows, else mainline)",
    )
    .option("--mails <dir>", "mails of built-in versions, one sub-directory per id (for --against <id>)")
    .option(
      "--format <format>",
      "json (b4's review checks, the default) or checkpatch (one line a problem, for b4 am/prep --check)",
    )
    .option(
      "--cache <dir>",
      "where a series' review is kept for its other patches (default: $XDG_CACHE_HOME/rproc-review/b4)",
    )
    .action(async (opts: B4Options) => {
      const format = opts.format ?? "json";
      if (format !== "json" && format !== "checkpatch")
        throw new UsageError(`unknown format "${format}" (known: json, checkpatch)`, { subject: "--format" });
      const r = await check(opts);
      if (format === "json") printJson(r.checks);
      else {
        const { checkpatchLines } = await import("../../report/index.ts");
        const lines = checkpatchLines(r.checks, r.report, r.index);
        if (lines.length > 0) printText(`${lines.join("\n")}\n`);
      }
    });
}
