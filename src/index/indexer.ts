/**
 * Archive-scale indexing: mails arrive one at a time (from an mbox stream, a directory, a public-inbox git
 * repository) and are parsed as ingest parses them (postal-mime with the charset repair, subject prefixes,
 * diffs and patch ids); only a small summary per series is kept, never the mails. At the end the series are
 * grouped into version chains with ingest's chain logic (chainVersions), applied to candidate groups found
 * through indexes (change-id, thread references, code identity, author and files) instead of all pairs.
 */
import { changeIdOf, linkedMessageIds } from "../series/body.ts";
import { chainMemo, chainVersions } from "../series/chain.ts";
import { DEFAULT_MAIL_LIMITS, peekHeaders, peekMessageId, readMail } from "../series/mail.ts";
import { listMissing, missingRanges } from "../series/missing.ts";
import { patchId } from "../series/patchid.ts";
import type { ChainEntry, FileChange, Patch, Person, Series, SeriesVersion } from "../series/types.ts";

/** The files whose changes the model covers (the mapper's MODELLED_FILES plus remoteproc_internal.h). */
export const MODELLED_PATHS: readonly string[] = [
  "drivers/remoteproc/remoteproc_core.c",
  "drivers/remoteproc/remoteproc_internal.h",
  "include/linux/remoteproc.h",
  "drivers/remoteproc/remoteproc_tee.c",
  "include/linux/remoteproc_tee.h",
  "drivers/remoteproc/stm32_rproc.c",
  "Documentation/devicetree/bindings/remoteproc/st,stm32-rproc.yaml",
];

/**
 * Earlier series of the same author touching the same file that a series is compared with for title
 * similarity (on the 21,439-mail linux-remoteproc archive, 32 finds every chain that all pairs find).
 */
export const SIMILARITY_WINDOW = 32;

export interface IndexCounts {
  mails: number;
  bytes: number;
  patches: number;
  covers: number;
  /** Replies and other mails without a patch. */
  other: number;
  /** Mails postal-mime could not read, over a bound of MailLimits, or whose diff does not parse. */
  unreadable: number;
  /** Plain-text body characters decoded (every mail's). */
  bodyChars: number;
}

export interface IndexedChain {
  /** Latest version's title. */
  title: string;
  author: Person;
  /** chainVersions' entries, oldest first (ids unique within the chain). */
  versions: (ChainEntry & { patches: number; total: number; date: string | null })[];
  /** Every file the chain's patches change. */
  files: string[];
  /** The modelled files among them. */
  modelled: string[];
}

/** A mail the index could not read, and why. */
export interface UnreadableEntry {
  origin: string;
  messageId: string;
  /** As written in the header (not decoded: the mail may not decode). */
  subject: string;
  reason: string;
}

/** At most this many unreadable mails are listed (counts.unreadable has them all). */
export const MAX_LISTED_UNREADABLE = 1000;

export interface IndexResult {
  counts: IndexCounts;
  /** Each unreadable mail with its reason, in archive order (at most MAX_LISTED_UNREADABLE). */
  unreadable: UnreadableEntry[];
  series: number;
  chains: number;
  /** Chains with at least one patch changing a modelled file. */
  touching: IndexedChain[];
}

interface PatchSummary {
  index: number;
  total: number;
  title: string;
  messageId: string;
  patchId: string;
  paths: string[];
  date: string | null;
}

interface SeriesAcc {
  version: SeriesVersion;
  total: number;
  author: Person;
  origin: string;
  cover: { messageId: string; title: string; date: string | null } | null;
  patches: PatchSummary[];
  mentions: Set<string>;
  changeId: string | null;
}

class UnionFind {
  private readonly parent: number[] = [];
  add(): number {
    this.parent.push(this.parent.length);
    return this.parent.length - 1;
  }
  find(x: number): number {
    let r = x;
    while (this.parent[r] !== r) r = this.parent[r] as number;
    for (let y = x; this.parent[y] !== r; ) {
      const next = this.parent[y] as number;
      this.parent[y] = r;
      y = next;
    }
    return r;
  }
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
}

const fileOf = (path: string): FileChange => ({
  oldPath: path,
  newPath: path,
  path,
  status: "modified",
  oldMode: null,
  newMode: null,
  oldBlob: null,
  newBlob: null,
  additions: 0,
  deletions: 0,
  hunks: [],
});

/** A Series with what chainVersions reads (ids, titles, versions, code ids, files, mentions). */
function seriesOf(a: SeriesAcc): Series {
  const patches: Patch[] = [...a.patches]
    .sort((x, y) => x.index - y.index)
    .map((p) => ({
      messageId: p.messageId,
      subject: p.title,
      inReplyTo: null,
      references: [],
      author: a.author,
      date: p.date,
      origin: a.origin,
      index: p.index,
      total: p.total,
      title: p.title,
      message: "",
      trailers: [],
      changelog: [],
      files: p.paths.map(fileOf),
      patchId: p.patchId,
    }));
  // Bounded by the patches present, whatever total a subject announced.
  const missing = listMissing(
    missingRanges(
      a.total,
      a.patches.map((p) => p.index),
    ),
  );
  const own = new Set([...(a.cover ? [a.cover.messageId] : []), ...patches.map((p) => p.messageId)]);
  return {
    id: a.version.label + (a.version.resend ? "-resend" : ""),
    title: a.cover?.title ?? patches[0]?.title ?? "",
    version: a.version,
    base: null,
    testedOn: null,
    changeId: a.changeId,
    prerequisites: [],
    cover: a.cover
      ? {
          messageId: a.cover.messageId,
          subject: a.cover.title,
          inReplyTo: null,
          references: [],
          author: a.author,
          date: a.cover.date,
          origin: a.origin,
          title: a.cover.title,
          body: "",
          changelog: [],
        }
      : null,
    patches,
    total: a.total,
    missing,
    author: a.author,
    date: a.cover?.date ?? patches[0]?.date ?? null,
    origin: a.origin,
    mentions: [...a.mentions].filter((id) => !own.has(id)),
    warnings: [],
  };
}

/** What one mail contributes to the index; parsing runs concurrently, folding in archive order. */
export type ParsedMail =
  | { kind: "other"; size: number; bodyChars: number }
  | ({ kind: "unreadable"; size: number; bodyChars: number } & UnreadableEntry)
  | {
      kind: "cover" | "patch";
      size: number;
      bodyChars: number;
      origin: string;
      /** Series grouping key: thread root, version, prefixes, sender. */
      key: string;
      version: SeriesVersion;
      total: number;
      sender: Person;
      mentions: string[];
      changeId: string | null;
      cover: SeriesAcc["cover"];
      patch: Omit<PatchSummary, "index"> & { index: number | null };
    };

/**
 * Reads one mail with the reader `series` uses (src/series/mail.ts: the same bounds, decode, classification
 * and diff); `fast` lets single-part plain-text mails skip postal-mime (same result, tested on real mail).
 */
export async function parseMail(bytes: Uint8Array, origin: string, fast = true): Promise<ParsedMail> {
  const size = bytes.length;
  const { mail, info, what } = await readMail(bytes, DEFAULT_MAIL_LIMITS, fast);
  const bodyChars = mail?.text.length ?? 0;
  if (mail === null || what.kind === "too-large" || what.kind === "unreadable" || what.kind === "bad-diff") {
    const reason =
      what.kind === "too-large" || what.kind === "unreadable" || what.kind === "bad-diff" ? what.reason : "";
    return {
      kind: "unreadable",
      size,
      bodyChars,
      origin,
      messageId: mail?.messageId ?? peekMessageId(bytes),
      subject: mail?.subject ?? peekHeaders(bytes).get("subject") ?? "",
      reason,
    };
  }
  if (what.kind !== "cover" && what.kind !== "patch") return { kind: "other", size, bodyChars };
  const { messageId, references, inReplyTo, text } = mail;
  const sender: Person = mail.from ?? { name: "", email: "" };
  const root = references[0] ?? inReplyTo ?? messageId;
  const v = info.version;
  const date = mail.date;
  const base = {
    size,
    bodyChars,
    origin,
    key: [root, v.label, v.resend, v.rfc, v.tags.join(","), sender.email].join("|"),
    version: v,
    total: info.total ?? 1,
    sender,
    changeId: changeIdOf(text),
  };
  const mentions = [...(inReplyTo ? [inReplyTo] : []), ...references];
  if (what.kind === "cover") {
    return {
      ...base,
      kind: "cover",
      mentions: [...mentions, ...linkedMessageIds(text)],
      cover: { messageId, title: info.title, date },
      patch: { title: "", messageId, patchId: "", paths: [], date, index: null, total: 1 },
    };
  }
  return {
    ...base,
    kind: "patch",
    mentions: [...mentions, ...linkedMessageIds(what.body.notes)],
    cover: null,
    patch: {
      index: info.index,
      total: info.total ?? 1,
      title: info.title,
      messageId,
      patchId: patchId(what.diff),
      paths: what.diff.files.map((f) => f.path),
      date,
    },
  };
}

export class ArchiveIndexer {
  readonly counts: IndexCounts = {
    mails: 0,
    bytes: 0,
    patches: 0,
    covers: 0,
    other: 0,
    unreadable: 0,
    bodyChars: 0,
  };
  private readonly groups = new Map<string, SeriesAcc>();
  private readonly unreadable: UnreadableEntry[] = [];

  constructor(private readonly modelled: readonly string[] = MODELLED_PATHS) {}

  /** Number of series seen so far. */
  get seriesCount(): number {
    return this.groups.size;
  }

  /** Reads one mail and folds it into its series' summary. */
  async add(bytes: Uint8Array, origin: string): Promise<void> {
    this.fold(await parseMail(bytes, origin));
  }

  /** Folds a parsed mail into its series' summary (mails must be folded in archive order). */
  fold(m: ParsedMail): void {
    this.counts.mails++;
    this.counts.bytes += m.size;
    this.counts.bodyChars += m.bodyChars;
    if (m.kind === "unreadable") {
      this.counts.unreadable++;
      if (this.unreadable.length < MAX_LISTED_UNREADABLE) {
        const { origin, messageId, subject, reason } = m;
        this.unreadable.push({ origin, messageId, subject, reason });
      }
      return;
    }
    if (m.kind === "other") {
      this.counts.other++;
      return;
    }
    let acc = this.groups.get(m.key);
    if (acc === undefined) {
      acc = {
        version: m.version,
        total: m.total,
        author: m.sender,
        origin: m.origin,
        cover: null,
        patches: [],
        mentions: new Set(),
        changeId: null,
      };
      this.groups.set(m.key, acc);
    }
    for (const id of m.mentions) acc.mentions.add(id);
    acc.changeId ??= m.changeId;
    if (m.kind === "cover") {
      this.counts.covers++;
      acc.cover = m.cover;
      return;
    }
    this.counts.patches++;
    acc.total = Math.max(acc.total, m.total);
    acc.patches.push({ ...m.patch, index: m.patch.index ?? acc.patches.length + 1 });
  }

  /** Groups the series into version chains and lists those that touch modelled code. */
  result(): IndexResult {
    const accs = [...this.groups.values()].filter((a) => a.patches.length > 0);
    const series = accs.map(seriesOf);
    // Each series' code identity, hashed once for the links below and every chainVersions call.
    const memo = chainMemo();
    const { codeOf } = memo;
    const uf = new UnionFind();
    for (let i = 0; i < series.length; i++) uf.add();
    const byKey = new Map<string, number>();
    const link = (key: string, i: number): void => {
      const j = byKey.get(key);
      if (j === undefined) byKey.set(key, i);
      else uf.union(i, j);
    };
    const owner = new Map<string, number>();
    series.forEach((s, i) => {
      if (s.changeId !== null) link(`change-id\u0000${s.changeId}`, i);
      if (s.missing.length === 0) link(`code\u0000${codeOf(s)}`, i);
      for (const p of s.patches) owner.set(p.messageId, i);
      if (s.cover) owner.set(s.cover.messageId, i);
    });
    series.forEach((s, i) => {
      for (const id of s.mentions) {
        const j = owner.get(id);
        if (j !== undefined) uf.union(i, j);
      }
    });
    // Same author and a shared file: candidates for chainVersions' title similarity, confirmed pairwise
    // against the SIMILARITY_WINDOW latest earlier series of that author and file, so that an author's
    // thousands of series on one file cost a bounded number of comparisons each, not one per pair.
    const byAuthorFile = new Map<string, number[]>();
    series.forEach((s, i) => {
      if (s.author.email === "") return;
      const paths = new Set(s.patches.flatMap((p) => p.files.map((f) => f.path)));
      for (const path of paths) {
        const k = `${s.author.email}\u0000${path}`;
        const list = byAuthorFile.get(k);
        if (list) list.push(i);
        else byAuthorFile.set(k, [i]);
      }
    });
    const tried = new Set<string>();
    for (const members of byAuthorFile.values()) {
      for (let y = 1; y < members.length; y++) {
        for (let x = Math.max(0, y - SIMILARITY_WINDOW); x < y; x++) {
          const a = members[x] as number;
          const b = members[y] as number;
          if (uf.find(a) === uf.find(b)) continue;
          const pair = `${a},${b}`;
          if (tried.has(pair)) continue;
          tried.add(pair);
          const chain = chainVersions([series[a] as Series, series[b] as Series], memo);
          if (chain.entries[1]?.follows != null) uf.union(a, b);
        }
      }
    }
    const components = new Map<number, number[]>();
    series.forEach((_, i) => {
      const r = uf.find(i);
      const list = components.get(r);
      if (list) list.push(i);
      else components.set(r, [i]);
    });
    const modelled = new Set(this.modelled);
    const touching: IndexedChain[] = [];
    for (const members of components.values()) {
      const files = new Set<string>();
      for (const i of members)
        for (const p of (series[i] as Series).patches) for (const f of p.files) files.add(f.path);
      const hits = [...files].filter((f) => modelled.has(f)).sort();
      if (hits.length === 0) continue;
      const group = members.map((i) => series[i] as Series);
      const chain = chainVersions(group, memo);
      const last = chain.entries[chain.entries.length - 1];
      const lead = group[last?.input ?? 0] as Series;
      touching.push({
        title: last?.title ?? lead.title,
        author: lead.author,
        versions: chain.entries.map((e) => {
          const s = group[e.input] as Series;
          return { ...e, patches: s.patches.length, total: s.total, date: s.date };
        }),
        files: [...files].sort(),
        modelled: hits,
      });
    }
    touching.sort((a, b) => (a.versions[0]?.messageId ?? "").localeCompare(b.versions[0]?.messageId ?? ""));
    return {
      counts: { ...this.counts },
      unreadable: [...this.unreadable],
      series: series.length,
      chains: components.size,
      touching,
    };
  }
}
