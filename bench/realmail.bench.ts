/**
 * The index on real list mail against Python 3's stdlib (issue 19 item 3): the 6,103-mail archive slice in
 * ../shared/archive (and, when RPROC_REALMAIL_ARCHIVE names one, another archive: an mbox, a directory or a
 * public-inbox repository such as linux-mailinglist-archives/linux-remoteproc.vger.kernel.org.0), indexed as
 * `rproc-review index` does; the same mbox read by bench/python/mailbox_baseline.py, as a ratio of wall times
 * (the goal: >= 5x) and of CPU times (the index's includes V8's helper threads; on a loaded machine the wall
 * ratio swings with the load, the CPU one much less); and each mail the index leaves unreadable, with whether
 * Python decodes it, whether `git apply` reads the diff of what Python decoded (a second opinion on the diff),
 * and why the index does not read it.
 */
import { spawnSync } from "node:child_process";
import { createReadStream, createWriteStream, existsSync, mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
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
  cpu_seconds: number;
  body_chars: number;
}

interface Decodes {
  n: number;
  message_id: string;
  decodes: boolean;
  body?: string;
  error?: string;
}

/** Whether `git apply` reads a patch's diff (`--numstat`: parsed, applied to nothing), and if not, why. */
function gitReads(text: string, cwd: string): { reads: boolean; why: string } {
  const r = spawnSync("git", ["apply", "--numstat", "-"], { input: text, cwd, encoding: "utf8" });
  if (r.error !== undefined) return { reads: false, why: `git not run: ${r.error.message}` };
  return { reads: r.status === 0, why: r.stderr.trim().split("\n")[0] ?? "" };
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
    const load = loadavg()[0] ?? 0;
    const cpu0 = process.cpuUsage();
    const r = await indexArchive((await openArchive(mbox)).mails);
    const used = process.cpuUsage(cpu0);
    const cpu = (used.user + used.system) / 1e6;
    const lines = indexLines("archive slice (linux-remoteproc 2021-2022)", r);
    lines[0] += `; CPU ${cpu.toFixed(2)} s (load average ${load.toFixed(1)} before)`;
    const base = python("mailbox_baseline.py", [mbox]);
    if ("error" in base) lines.push(`python3 baseline not run: ${base.error}`);
    else {
      const b = JSON.parse(base.out) as Baseline;
      lines.push(
        `python3 mailbox+email (policy.default) on the slice: ${b.mails} mails in ${b.seconds.toFixed(2)} s, CPU ${b.cpu_seconds.toFixed(2)} s`,
        `index vs python3 on real mail: ${(b.seconds / (r.elapsedMs / 1000)).toFixed(1)}x faster (goal >= 5x); by CPU time ${(b.cpu_seconds / cpu).toFixed(1)}x`,
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
    const git = new Map(
      readByPython.map((u) => [u, gitReads(decoded.get(numberOf(u.origin) ?? -1)?.body ?? "", dir)]),
    );
    const sound = readByPython.filter((u) => git.get(u)?.reads === true);
    lines.push(
      `unreadable patch mails that python3 decodes: ${readByPython.length} of ${r.counts.unreadable}; of them with a diff git apply reads: ${sound.length} (goal 0)`,
    );
    for (const u of r.unreadable) {
      const d = decoded.get(numberOf(u.origin) ?? -1);
      const pyWord =
        d === undefined ? "python3 not asked" : d.decodes ? "python3 decodes it" : "python3 does not";
      const g = git.get(u);
      const gitWord = g === undefined ? "" : g.reads ? "; git apply reads its diff" : `; git apply: ${g.why}`;
      lines.push(`  ${u.origin} <${u.messageId}> (${pyWord}${gitWord}): ${u.reason}`);
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
