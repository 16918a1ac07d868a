/**
 * A series named by a message-id or a lore URL: its thread read from a local archive (`--archive`: a
 * public-inbox repository, an mbox or a directory of mails, streamed twice: once to find the mail, once to
 * collect its thread), else fetched by `b4 mbox -o -` when b4 is installed. Node-only.
 */
import { spawn } from "node:child_process";
import { InputError } from "../errors.ts";
import { type RawMessage, splitMbox } from "../series/index.ts";
import { inThread, threadIds, threadRoot } from "../series/thread.ts";
import { openArchive } from "./archive.ts";

export interface ThreadOptions {
  /** A local archive to look in (public-inbox, mbox, directory). */
  archive?: string;
  /** The b4 command (default: `b4` on the PATH). */
  b4?: string;
  maxBytes: number;
}

/** The mails of the thread `id` belongs to, from a local archive. */
async function fromArchive(id: string, archive: string, maxBytes: number): Promise<RawMessage[]> {
  let root: string | null = null;
  for await (const m of (await openArchive(archive)).mails) {
    const t = threadIds(m.bytes);
    if (t.messageId === id) {
      root = threadRoot(t);
      break;
    }
  }
  if (root === null)
    throw new InputError(`no mail with Message-ID <${id}> in the archive`, { subject: archive });
  const out: RawMessage[] = [];
  let total = 0;
  for await (const m of (await openArchive(archive)).mails) {
    if (!inThread(threadIds(m.bytes), root)) continue;
    total += m.bytes.length;
    if (total > maxBytes)
      throw new InputError(`the thread of <${id}> is over ${maxBytes} bytes`, { subject: archive });
    out.push({ name: m.origin, bytes: m.bytes });
  }
  return out;
}

/** What `b4 mbox -o - <id>` prints (the thread as an mbox), or why it could not. */
function fromB4(id: string, b4: string, maxBytes: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    // `b4 mbox -o -` prints the whole thread, cover letter included (`b4 am -o -` drops the cover, and
    // with it the changelog).
    const child = spawn(b4, ["-q", "mbox", "-o", "-", id], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const chunks: Buffer[] = [];
    let size = 0;
    let err = "";
    child.stdout.on("data", (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) {
        child.kill();
        reject(new InputError(`b4 mbox printed over ${maxBytes} bytes for <${id}>`, { subject: id }));
      } else chunks.push(c);
    });
    child.stderr.on("data", (c: Buffer) => {
      if (err.length < 4000) err += c.toString("utf8");
    });
    child.on("error", (e: NodeJS.ErrnoException) =>
      reject(
        new InputError(
          e.code === "ENOENT"
            ? `a message-id needs a local archive (--archive <public-inbox dir or mbox>) or b4 installed to fetch it (${b4} not found)`
            : `cannot run ${b4}: ${e.message}`,
          { subject: id },
        ),
      ),
    );
    child.on("close", (code) => {
      if (size > maxBytes) return;
      const out = new Uint8Array(Buffer.concat(chunks));
      if (code === 0 && out.length > 0) resolve(out);
      else
        reject(
          new InputError(
            `b4 mbox could not fetch <${id}> (exit ${code}): ${err.trim().split("\n").slice(-2).join(" ") || "no output"}`,
            { subject: id },
          ),
        );
    });
  });
}

/** The raw mails of the thread a message-id names: from the archive when one is given, else through b4. */
export async function loadThread(id: string, opts: ThreadOptions): Promise<RawMessage[]> {
  if (opts.archive !== undefined) return fromArchive(id, opts.archive, opts.maxBytes);
  const bytes = await fromB4(id, opts.b4 ?? process.env.RPROC_REVIEW_B4 ?? "b4", opts.maxBytes);
  return splitMbox(bytes).map((b, i) => ({ name: `b4:${id}#${i + 1}`, bytes: b }));
}
