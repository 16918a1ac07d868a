/**
 * Index throughput on a generated archive of at least 20,000 mails (copies of the ingest fixtures with their
 * own ids, authors and code, plus quoted-printable review replies), and the same file read by Python 3's
 * stdlib mailbox + email (policy.default: subject, message-id, references and decoded plain-text body of every
 * message), as a ratio.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateArchive, indexArchive } from "../src/index/index.ts";
import { openArchive, readSourceSeries } from "../src/node/archive.ts";

const MAILS = 20_000;
const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

export async function benchIndex(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), "rproc-index-bench-"));
  try {
    const source = await readSourceSeries(here("../test/fixtures/series"));
    const file = join(dir, "archive.mbox");
    writeFileSync(file, [...generateArchive(source, { mails: MAILS, modelledEvery: 50 })].join(""));
    const archive = await openArchive(file);
    const r = await indexArchive(archive.mails);
    const secs = r.elapsedMs / 1000;
    const mb = r.counts.bytes / 1e6;
    const lines = [
      `archive: ${r.counts.mails} mails, ${mb.toFixed(1)} MB (generated from test/fixtures/series); ${r.series} series, ${r.chains} chains, ${r.touching.length} touching modelled code`,
      `index throughput: ${(mb / secs).toFixed(1)} MB/s, ${Math.round(r.counts.mails / secs)} mails/s (${secs.toFixed(2)} s; ${r.counts.bodyChars} body characters decoded; largest buffer ${(archive.stats.maxBuffered / 1e6).toFixed(1)} MB)`,
    ];
    const py = spawnSync("python3", [here("python/mailbox_baseline.py"), file], { encoding: "utf8" });
    if (py.error !== undefined || py.status !== 0) {
      lines.push(`python3 baseline not run: ${py.error?.message ?? py.stderr.trim()}`);
      return lines;
    }
    const base = JSON.parse(py.stdout) as { mails: number; seconds: number; body_chars: number };
    lines.push(
      `python3 mailbox+email (policy.default) baseline: ${base.mails} mails in ${base.seconds.toFixed(2)} s = ${(mb / base.seconds).toFixed(1)} MB/s, ${Math.round(base.mails / base.seconds)} mails/s (${base.body_chars} body characters)`,
      `index vs python3 baseline: ${(base.seconds / secs).toFixed(1)}x faster (goal >= 5x)`,
    );
    return lines;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
