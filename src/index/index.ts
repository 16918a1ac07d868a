/**
 * Public API of archive indexing (Workers-safe: mails come in as an async iterable of bytes; reading files,
 * directories and public-inbox repositories is in src/node/archive.ts).
 */
import { ArchiveIndexer, type IndexCounts, type IndexResult } from "./indexer.ts";

/** Mails parsed concurrently. */
const _IN_FLIGHT = 64;

export {
  type GenerateOptions,
  generateArchive,
  type SourceMail,
  type TinyMailsOptions,
  tinyMails,
} from "./generate.ts";
export {
  ArchiveIndexer,
  type IndexCounts,
  type IndexedChain,
  type IndexResult,
  MAX_LISTED_UNREADABLE,
  MODELLED_PATHS,
  type ParsedMail,
  parseMail,
  type UnreadableEntry,
} from "./indexer.ts";
export { type SplitStats, splitMboxStream, unquoteFromLines } from "./mbox-stream.ts";

export interface ArchiveMail {
  bytes: Uint8Array;
  /** Where it came from: "file#12", a path, a commit. */
  origin: string;
}

export interface IndexProgress {
  counts: IndexCounts;
  series: number;
  elapsedMs: number;
}

/** Indexes every mail of `mails`; `onProgress` is called every `every` mails. */
export async function indexArchive(
  mails: AsyncIterable<ArchiveMail>,
  opts: { onProgress?: (p: IndexProgress) => void; every?: number; modelled?: readonly string[] } = {},
): Promise<IndexResult & { elapsedMs: number }> {
  const indexer = new ArchiveIndexer(opts.modelled);
  const started = performance.now();
  const every = opts.every ?? 500;
  for await (const m of mails) {
    await indexer.add(m.bytes, m.origin);
    if (opts.onProgress && indexer.counts.mails % every === 0) {
      opts.onProgress({
        counts: indexer.counts,
        series: indexer.seriesCount,
        elapsedMs: performance.now() - started,
      });
    }
  }
  const result = indexer.result();
  return { ...result, elapsedMs: performance.now() - started };
}

export function renderIndexText(r: IndexResult & { elapsedMs: number }, source: string): string {
  const c = r.counts;
  const secs = r.elapsedMs / 1000;
  const mb = c.bytes / 1e6;
  const lines = [
    `${source}: ${c.mails} mails (${mb.toFixed(1)} MB) in ${secs.toFixed(2)} s (${(mb / Math.max(secs, 1e-6)).toFixed(1)} MB/s, ${Math.round(c.mails / Math.max(secs, 1e-6))} mails/s)`,
    `  ${c.patches} patches, ${c.covers} cover letters, ${c.other} other mails, ${c.unreadable} unreadable`,
    `  ${r.series} series in ${r.chains} version chains; ${r.touching.length} chain${r.touching.length === 1 ? " touches" : "s touch"} modelled code`,
  ];
  const shown = r.unreadable.slice(0, 20);
  for (const u of shown) lines.push(`  unreadable: ${u.origin} <${u.messageId}>: ${u.reason}`);
  if (c.unreadable > shown.length)
    lines.push(`  … and ${c.unreadable - shown.length} more unreadable (--json lists them)`);
  for (const ch of r.touching) {
    lines.push("");
    lines.push(
      `${ch.versions.map((v) => v.id).join(" -> ")}  "${ch.title}"  (${ch.author.name} <${ch.author.email}>)`,
    );
    for (const v of ch.versions) {
      const link = v.follows === null ? "" : `  follows ${v.follows} (${v.linkedBy})`;
      lines.push(
        `  ${v.id.padEnd(10)} ${(v.date ?? "").slice(0, 10).padEnd(10)} ${v.patches}/${v.total} patches  <${v.messageId}>${link}`,
      );
    }
    lines.push(`  modelled: ${ch.modelled.join(", ")}`);
  }
  return lines.join("\n");
}
