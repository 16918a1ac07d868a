import type { Command } from "commander";
import PostalMime from "postal-mime";
import { defaultComparisonWhy, precedingInChain } from "../../compare/against.ts";
import { InputError } from "../../errors.ts";
import { loadInput } from "../../node/inputs.ts";
import { loadStore } from "../../node/series-store.ts";
import { builtinManifests, mappedSubject, resolveVersion } from "../../node/versions.ts";
import { type B4Check, type B4Context, b4Checks } from "../../report/index.ts";
import { builtinSubject, type ReviewSubject, runReview } from "../../review/run.ts";
import { builtinVersion } from "../../semantics/versions.ts";
import { parseMessages, parseSubject, type Series } from "../../series/index.ts";

/** The headers of the message on stdin that locate it in a series. */
interface Message {
  messageId: string;
  inReplyTo: string | null;
  references: string[];
  context: B4Context["message"];
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
  };
}

function holds(series: Series, m: Message): boolean {
  const own = [series.cover?.messageId, ...series.patches.map((p) => p.messageId)];
  if (own.includes(m.messageId)) return true;
  const cover = series.cover?.messageId;
  return cover !== undefined && (m.inReplyTo === cover || m.references.includes(cover));
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
  const before = precedingInChain(series, stored);
  if (before !== null)
    return {
      a: await mappedSubject(before.series, before.series.origin),
      why: `the version it follows in the local store (linked by ${before.linkedBy})`,
    };
  const d = defaultComparisonWhy(series, await builtinManifests());
  const v = builtinVersion(d.id);
  if (v === undefined) throw new Error("the default comparison names no built-in version");
  return { a: builtinSubject(v), why: d.why };
}

interface B4Options {
  series?: string;
  store?: string;
  against?: string;
  mails?: string;
}

async function check(opts: B4Options): Promise<B4Check[]> {
  const bytes = await readStdin();
  const message = await readMessage(bytes);
  if (message === null) return [];
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
      return [
        {
          tool: "rproc-review",
          status: "warn",
          summary: "cover letter checked alone: no patch to run",
          details:
            "The rest of the series was neither given (--series) nor found in the local store, so nothing could be run. Give --series <input> to check the whole series.",
        },
      ];
    series = (await parseMessages([{ name: "stdin", bytes }], "stdin"))[0] ?? null;
    if (series === null) return [];
  }
  const b = await mappedSubject(series, spec);
  const { a, why } =
    opts.against !== undefined
      ? { a: await resolveVersion(opts.against, opts.mails), why: "given (--against)" }
      : await defaultAgainst(series, stored);
  const { report } = await runReview(a, b, { comparisonWhy: why });
  return b4Checks(report, { message: message.context, alone });
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
    .action(async (opts: B4Options) => {
      process.stdout.write(`${JSON.stringify(await check(opts), null, 2)}\n`);
    });
}
