/**
 * Node side of archive indexing: streams the mails of an mbox file (read in chunks; gunzipped when its name
 * ends in .gz), a directory of mail or mbox files, or a public-inbox repository (v2: git/N.git epochs; v1: one
 * bare repository), one commit per mail with the mail in blob `m`, read through `git rev-list` and
 * `git cat-file --batch`. Nothing holds more than one mail plus one chunk.
 */
import { spawn } from "node:child_process";
import { createReadStream } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, join, relative } from "node:path";
import { createInterface } from "node:readline";
import { createGunzip } from "node:zlib";
import { InputError } from "../errors.ts";
import "./hash.ts";
import { type ArchiveMail, type SourceMail, type SplitStats, splitMboxStream } from "../index/index.ts";
import { splitMbox } from "../series/index.ts";

export type ArchiveKind = "mbox" | "directory" | "public-inbox";

export interface OpenedArchive {
  kind: ArchiveKind;
  mails: AsyncIterable<ArchiveMail>;
  /** Bytes read so far and the largest buffer held (mbox and directory sources). */
  stats: SplitStats;
}

const CHUNK = 1 << 20;

async function* mboxMails(file: string, name: string, stats: SplitStats): AsyncGenerator<ArchiveMail> {
  const raw = createReadStream(file, { highWaterMark: CHUNK });
  // A gzipped mbox (an archive slice as distributed) is read through gunzip, still one chunk at a time.
  const stream = file.endsWith(".gz") ? raw.pipe(createGunzip({ chunkSize: CHUNK })) : raw;
  let i = 0;
  const chunks = (async function* () {
    for await (const c of stream)
      yield new Uint8Array((c as Buffer).buffer, (c as Buffer).byteOffset, (c as Buffer).length);
  })();
  for await (const bytes of splitMboxStream(chunks, stats)) {
    i++;
    yield { bytes, origin: `${name}#${i}` };
  }
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    if (e.name.startsWith(".")) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

async function* directoryMails(dir: string, stats: SplitStats): AsyncGenerator<ArchiveMail> {
  for (const file of await filesUnder(dir)) yield* mboxMails(file, relative(dir, file), stats);
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

const isGitDir = async (p: string): Promise<boolean> =>
  (await exists(join(p, "objects"))) && (await exists(join(p, "HEAD")));

/** The epochs of a public-inbox v2 directory (git/0.git, git/1.git, … in order), or null. */
async function epochsOf(dir: string): Promise<string[] | null> {
  const gitDir = join(dir, "git");
  if (!(await exists(gitDir))) return null;
  const names = (await readdir(gitDir)).filter((n) => /^\d+\.git$/.test(n));
  if (names.length === 0) return null;
  return names.sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10)).map((n) => join(gitDir, n));
}

/** Parses `git cat-file --batch` output: "<oid> blob <size>\n<bytes>\n" or "<spec> missing\n" per request. */
async function* catFileObjects(out: AsyncIterable<Buffer>): AsyncGenerator<Uint8Array | null> {
  const decoder = new TextDecoder();
  let buf = new Uint8Array(0);
  let off = 0;
  let need = -1; // bytes of the current object still to read (+1 for the trailing LF), -1 when reading a header
  for await (const c of out) {
    const chunk = new Uint8Array(c.buffer, c.byteOffset, c.length);
    const merged = new Uint8Array(buf.length - off + chunk.length);
    merged.set(buf.subarray(off), 0);
    merged.set(chunk, buf.length - off);
    buf = merged;
    off = 0;
    for (;;) {
      if (need < 0) {
        const nl = buf.indexOf(0x0a, off);
        if (nl < 0) break;
        const line = decoder.decode(buf.subarray(off, nl));
        off = nl + 1;
        if (line.endsWith(" missing") || line.endsWith(" ambiguous")) {
          yield null;
          continue;
        }
        const size = Number(line.split(" ")[2]);
        if (!Number.isInteger(size)) throw new InputError(`unexpected git cat-file output: ${line}`);
        need = size + 1;
      }
      if (buf.length - off < need) break;
      const obj = buf.slice(off, off + need - 1);
      off += need;
      need = -1;
      yield obj;
    }
  }
}

async function* epochMails(gitDir: string, label: string, stats: SplitStats): AsyncGenerator<ArchiveMail> {
  const revs = spawn("git", ["--git-dir", gitDir, "rev-list", "--reverse", "HEAD"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const cat = spawn("git", ["--git-dir", gitDir, "cat-file", "--batch"], { stdio: ["pipe", "pipe", "pipe"] });
  let revErr = "";
  revs.stderr.on("data", (d: Buffer) => {
    revErr += d.toString();
  });
  const commits: string[] = [];
  // Feed commits to cat-file as rev-list prints them, honouring backpressure.
  const feeding = (async () => {
    for await (const line of createInterface({ input: revs.stdout })) {
      if (line === "") continue;
      commits.push(line);
      if (!cat.stdin.write(`${line}:m\n`)) await new Promise((r) => cat.stdin.once("drain", r));
    }
    cat.stdin.end();
  })();
  const revsDone = new Promise<number>((r) => revs.on("close", (code) => r(code ?? 1)));
  let i = 0;
  for await (const obj of catFileObjects(cat.stdout)) {
    const commit = commits[i++] ?? "?";
    if (obj === null) continue; // a deleted mail (blob "d") or not a public-inbox commit
    stats.bytes += obj.length;
    stats.messages++;
    yield { bytes: obj, origin: `${label}@${commit.slice(0, 12)}` };
  }
  await feeding;
  // An epoch without commits (a new, empty repository) has no HEAD to list: nothing to read there.
  if ((await revsDone) !== 0 && commits.length > 0) {
    throw new InputError(`git rev-list failed: ${revErr.trim() || "no commits"}`, { subject: gitDir });
  }
}

async function* publicInboxMails(epochs: readonly string[], stats: SplitStats): AsyncGenerator<ArchiveMail> {
  for (const e of epochs) yield* epochMails(e, basename(e), stats);
}

/** Opens an archive path: an mbox file, a public-inbox directory or git repository, or a directory of mails. */
export async function openArchive(path: string): Promise<OpenedArchive> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (e) {
    throw new InputError(`cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { subject: path });
  }
  const stats: SplitStats = { bytes: 0, messages: 0, maxBuffered: 0 };
  if (info.isFile()) return { kind: "mbox", mails: mboxMails(path, basename(path), stats), stats };
  if (!info.isDirectory()) throw new InputError("neither a file nor a directory", { subject: path });
  const epochs = (await epochsOf(path)) ?? ((await isGitDir(path)) ? [path] : null);
  if (epochs !== null) return { kind: "public-inbox", mails: publicInboxMails(epochs, stats), stats };
  return { kind: "directory", mails: directoryMails(path, stats), stats };
}

/**
 * The series of a fixture directory as source mails for generateArchive: each entry is one series, an mbox
 * file or a directory of mail files (the ingest fixtures' layout, test/fixtures/series).
 */
export async function readSourceSeries(dir: string): Promise<SourceMail[][]> {
  const decoder = new TextDecoder();
  const series: SourceMail[][] = [];
  for (const name of (await readdir(dir)).sort()) {
    if (name.startsWith(".")) continue;
    const p = join(dir, name);
    const files = (await stat(p)).isDirectory() ? await filesUnder(p) : [p];
    const mails: SourceMail[] = [];
    for (const f of files)
      for (const b of splitMbox(new Uint8Array(await readFile(f)))) mails.push({ text: decoder.decode(b) });
    series.push(mails);
  }
  return series;
}
