/**
 * The index on real list mail against Python 3's stdlib (issue 19 item 3): the 6,103-mail archive slice in
 * ../shared/archive (and, when RPROC_REALMAIL_ARCHIVE names one, another archive: an mbox, a directory or a
 * public-inbox repository such as linux-mailinglist-archives/linux-remoteproc.vger.kernel.org.0), indexed as
 * `rproc-review index` does; the same mbox read by bench/python/mailbox_baseline.py, as a ratio (goal >= 5x);
 * and each mail the index leaves unreadable, with whether Python decodes it and why the index does not read
 * it.
 */
import { spawnSync } from "node:child_process";
import { createReadStream, createWriteStream, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { createGunzip } from "node:zlib";
import { type IndexResult, indexArchive } from "../src/index/index.ts";
import { openArchive } from "../src/node/archive.ts";

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const SLICE = here("../../shared/archive/linux-remoteproc-2021-2022.mbox.gz");

interface Baseline {
  mails: number;
  seconds: number;
  body_chars: number;
}

interface Decodes {
  n: number;
  message_id: string;
  decodes: boolean;
  error?: string;
}

function python(script: string, args: string[]): { out: string } | { error: string } {
  const r = spawnSync("python3", [here(`python/${script}`), ...args], {
    encoding: "utf8",
    maxBuffer: 64 << 20,
  });
  if (r.error !== undefined || r.status !== 0) return { error: r.error?.message ?? r.stderr.trim() };
  return { out: r.stdout };
}

function indexLines(name: string, r: IndexResult & { elapsedMs: number }): string[] {
  const c = r.counts;
  const secs = r.elapsedMs / 1000;
  const mb = c.bytes / 1e6;
  return [
    `${name}: ${c.mails} mails, ${mb.toFixed(1)} MB in ${secs.toFixed(2)} s (${(mb / secs).toFixed(1)} MB/s, ${Math.round(c.mails / secs)} mails/s): ${c.patches} patches, ${c.covers} cover letters, ${c.other} other, ${c.unreadable} unreadable`,
  ];
}

/** The mail number (1-based, archive order) of an origin "file#N", or null. */
const numberOf = (origin: string): number | null => {
  const m = /#(\d+)$/.exec(origin);
  return m ? Number(m[1]) : null;
};

export async function benchRealMail(): Promise<string[]> {
  if (!existsSync(SLICE)) return [`real mail: ${SLICE} is absent (../shared); nothing measured`];
  const dir = mkdtempSync(join(tmpdir(), "rproc-realmail-"));
  try {
    const mbox = join(dir, "slice.mbox");
    await pipeline(createReadStream(SLICE), createGunzip(), createWriteStream(mbox));
    const r = await indexArchive((await openArchive(mbox)).mails);
    const lines = indexLines("archive slice (linux-remoteproc 2021-2022)", r);
    const base = python("mailbox_baseline.py", [mbox]);
    if ("error" in base) lines.push(`python3 baseline not run: ${base.error}`);
    else {
      const b = JSON.parse(base.out) as Baseline;
      lines.push(
        `python3 mailbox+email (policy.default) on the slice: ${b.mails} mails in ${b.seconds.toFixed(2)} s`,
        `index vs python3 on real mail: ${(b.seconds / (r.elapsedMs / 1000)).toFixed(1)}x faster (goal >= 5x)`,
      );
    }
    // Each mail the index leaves unreadable: does Python decode it? The index's reason says why it does not.
    const numbers = r.unreadable.map((u) => numberOf(u.origin)).filter((n): n is number => n !== null);
    const py = numbers.length === 0 ? { out: "" } : python("decodes.py", [mbox, ...numbers.map(String)]);
    const decoded = new Map<number, Decodes>();
    if ("out" in py) {
      for (const l of py.out.split("\n").filter((x) => x.trim() !== "")) {
        const d = JSON.parse(l) as Decodes;
        decoded.set(d.n, d);
      }
    }
    const readByPython = r.unreadable.filter((u) => decoded.get(numberOf(u.origin) ?? -1)?.decodes === true);
    lines.push(
      `unreadable patch mails that python3 decodes: ${readByPython.length} of ${r.counts.unreadable} (goal 0 where the mail's own diff is sound)`,
    );
    for (const u of r.unreadable) {
      const d = decoded.get(numberOf(u.origin) ?? -1);
      const pyWord =
        d === undefined ? "python3 not asked" : d.decodes ? "python3 decodes it" : "python3 does not";
      lines.push(`  ${u.origin} <${u.messageId}> (${pyWord}): ${u.reason}`);
    }
    const other = process.env.RPROC_REALMAIL_ARCHIVE;
    if (other) {
      const opened = await openArchive(other);
      const o = await indexArchive(opened.mails);
      lines.push(...indexLines(`${other} (${opened.kind})`, o));
      for (const u of o.unreadable) lines.push(`  ${u.origin} <${u.messageId}>: ${u.reason}`);
    }
    return lines;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
