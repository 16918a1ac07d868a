/**
 * `series` on many mails (issue 20, defect 11): 10,000 tiny mails (about 2.3 MB) read as one series and as
 * 10,000 series of as many authors, in process; the goal is a few seconds (it took 85 s before the quadratic
 * steps went).
 */
import { tinyMails } from "../src/index/index.ts";
import { parseMbox } from "../src/series/index.ts";

const N = 10_000;
const GOAL_SECONDS = 5;

async function timed(
  bytes: Uint8Array,
  name: string,
): Promise<{ secs: number; series: number; patches: number }> {
  const started = performance.now();
  const series = await parseMbox(bytes, name);
  const secs = (performance.now() - started) / 1000;
  return { secs, series: series.length, patches: series.reduce((n, s) => n + s.patches.length, 0) };
}

export async function benchIngestScale(): Promise<string[]> {
  const lines: string[] = [];
  for (const [what, opts] of [
    ["one series [PATCH i/10000]", { numbered: true }],
    ["10,000 series of 10,000 authors", { numbered: false, authors: true }],
  ] as const) {
    const bytes = tinyMails(N, opts);
    const r = await timed(bytes, "tiny.mbox");
    lines.push(
      `series on ${N} tiny mails (${(bytes.length / 1e6).toFixed(1)} MB), ${what}: ${r.secs.toFixed(2)} s, ${Math.round(N / r.secs)} mails/s, ${r.series} series, ${r.patches} patches (goal <= ${GOAL_SECONDS} s)`,
    );
  }
  return lines;
}
