/**
 * What a pull request shows: a sticky comment of one screen (verdict, what could not be reviewed, one row per
 * root cause, where the rest is) and one check-run annotation per root cause on its posted line.
 */
import type { RootCause } from "../review/causes.ts";
import type { ReviewReport } from "../review/report.ts";
import { markdownText } from "./escape.ts";

/** A check-run annotation as the GitHub checks API takes it. */
export interface CheckAnnotation {
  path: string;
  start_line: number;
  end_line: number;
  annotation_level: "failure" | "warning" | "notice";
  title: string;
  message: string;
}

/** The checks API takes at most 50 annotations per request. */
export const MAX_ANNOTATIONS = 50;

const ICON = { pass: "✅", warn: "⚠️", fail: "❌" } as const;
const MARK: Record<RootCause["class"], string> = {
  introduced: "❌ introduced",
  carried: "🔴 carried",
  fixed: "✅ fixed",
  "pre-existing": "▫️ pre-existing",
};
/** Root-cause rows in the comment before "and N more". */
const COMMENT_ROWS = 12;

const cell = (s: string) => markdownText(s).replace(/\|/g, "\\|").replace(/\n/g, " ");

export interface CommentOptions {
  /** Where the full report is: the pull request's checks page. */
  checksUrl?: string;
}

/** The sticky comment: one screen. */
export function renderComment(r: ReviewReport, opts: CommentOptions = {}): string {
  const lines = [`## ${ICON[r.verdict.status]} rproc-review: ${cell(r.verdict.line)}`, ""];
  lines.push(`Compared **${cell(r.b.id)}** with **${cell(r.a.id)}** (${cell(r.comparison.why)}).`);
  if (r.verdict.cannotReview) lines.push("", `> ❔ ${cell(r.verdict.cannotReview.line)}`);
  if (r.causes.length > 0) {
    lines.push("", "| | root cause | posted line |", "|---|---|---|");
    for (const c of r.causes.slice(0, COMMENT_ROWS)) {
      const what = `${c.kind}${c.lock ? ` under ${c.lock}` : ""} in ${c.functions.map((f) => `\`${f}()\``).join(", ")}${c.since && c.class === "carried" ? ` (since ${cell(c.since)})` : ""}`;
      const where = c.where?.line != null ? `\`${cell(c.where.file)}:${c.where.line}\`` : "";
      lines.push(`| ${c.id} ${MARK[c.class]} | ${what} | ${where} |`);
    }
    if (r.causes.length > COMMENT_ROWS)
      lines.push("", `and ${r.causes.length - COMMENT_ROWS} more root causes.`);
  } else lines.push("", "No root cause: nothing introduced, carried or fixed.");
  lines.push(
    "",
    `The matrix, differences, evidence, changelog check and diagrams are in the rproc-review check run${opts.checksUrl ? ` ([checks](${opts.checksUrl}))` : ""}; each root cause is annotated on its posted line.`,
  );
  return lines.join("\n");
}

/** One annotation per root cause that has a posted line (introduced and carried fail, fixed is a notice). */
export function checkAnnotations(r: ReviewReport): CheckAnnotation[] {
  const out: CheckAnnotation[] = [];
  for (const c of r.causes) {
    if (c.where?.line == null || c.class === "pre-existing") continue;
    out.push({
      path: c.where.file,
      start_line: c.where.line,
      end_line: c.where.line,
      annotation_level: c.class === "fixed" ? "notice" : "failure",
      title: `${c.id} ${c.class}: ${c.kind}${c.lock ? ` under ${c.lock}` : ""}`,
      message: `${c.line}\n${c.detail}${c.scenarios.length > 0 ? `\nScenarios: ${c.scenarios.join(", ")}` : ""}${c.explore ? `\nShortest sequence: ${c.explore.replay}` : ""}${c.interleave ? `\nShortest schedule: ${c.interleave.replay}` : ""}`,
    });
  }
  return out.slice(0, MAX_ANNOTATIONS);
}
