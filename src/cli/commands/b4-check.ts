import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "commander";
import PostalMime from "postal-mime";
import { defaultComparison } from "../../compare/against.ts";
import { InputError } from "../../errors.ts";
import { loadInput } from "../../node/inputs.ts";
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

/**
 * The local store: a directory of series ingested before, one JSON file per series holding a Series value
 * (src/series/types.ts, the JSON the bot's store keeps per version). The bot's SQLite store itself is not
 * searched by message-id yet.
 */
async function fromStore(dir: string, m: Message): Promise<Series | null> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names.filter((n) => n.endsWith(".json")).sort()) {
    const doc = JSON.parse(await readFile(join(dir, name), "utf8")) as Partial<Series>;
    if (Array.isArray(doc.patches) && typeof doc.id === "string" && holds(doc as Series, m))
      return doc as Series;
  }
  return null;
}

/** The built-in version the series follows (src/compare/against.ts), with the manifests of patches/. */
async function defaultAgainst(series: Series): Promise<ReviewSubject> {
  const v = builtinVersion(defaultComparison(series, await builtinManifests()));
  if (v === undefined) throw new Error("the default comparison names no built-in version");
  return builtinSubject(v);
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
  } else {
    const store = opts.store ?? process.env.RPROC_REVIEW_STORE;
    if (store !== undefined) series = await fromStore(store, message);
  }
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
  const a =
    opts.against !== undefined
      ? await resolveVersion(opts.against, opts.mails)
      : await defaultAgainst(series);
  const { report } = await runReview(a, b);
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
