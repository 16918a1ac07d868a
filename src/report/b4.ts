/**
 * b4's review check protocol: the checker reads one message (a patch or a cover letter) and prints a JSON
 * array of {tool, status, summary, details}; `[]` when it has nothing to say about that message. For a patch,
 * only what its own evidence explains is reported (differences whose responsible facts it sets); for a cover
 * letter, the whole review.
 */
import type { ScenarioDiff } from "../compare/types.ts";
import type { RootCause } from "../review/causes.ts";
import type { ReviewReport } from "../review/report.ts";
import type { VerdictStatus } from "../review/verdict.ts";
import { describeStep } from "./describe.ts";
import { ascii, causeSection, fetchable } from "./email.ts";
import { cannotReviewLines } from "./sections.ts";
import { MAIL_WIDTH, wrap } from "./wrap.ts";

export interface B4Check {
  tool: "rproc-review";
  status: VerdictStatus;
  summary: string;
  details: string;
}

export interface B4Context {
  /** The message checked: the cover letter, or patch `index` of the series. */
  message: { kind: "cover" } | { kind: "patch"; index: number };
  /** The rest of the series was not available: the message was checked on its own. */
  alone: boolean;
}

/** Scenarios a patch explains: a responsible fact of theirs has evidence in that patch of B. */
function scenariosOfPatch(r: ReviewReport, index: number): ScenarioDiff[] {
  return r.diff.scenarios.filter(
    (s) => s.status === "different" && s.facts.some((f) => f.evidenceB.some((e) => e.patch === index)),
  );
}

/** "RC1 introduced sleep-in-atomic at remoteproc_tee.c:460": a cause in a few words, for a summary line. */
function causeBrief(c: RootCause): string {
  const at = c.where?.line != null ? ` at ${c.where.file.split("/").pop()}:${c.where.line}` : "";
  return `${c.id} ${c.class}${c.since ? ` since ${c.since}` : ""} ${c.kind}${at}`;
}

/** Scenarios listed one line each under a check; the full report has them all. */
const SCENARIO_LINES = 12;

/**
 * What b4 shows under a check, a few screens at most: the verdict, what could not be reviewed, each root
 * cause with its posted lines and the command that shows it, the scenarios that differ (one line each), and
 * how to get the full report.
 */
function details(
  r: ReviewReport,
  opts: { note: string | null; causes: readonly RootCause[]; scenarios: readonly ScenarioDiff[] },
): string {
  const out: string[] = [];
  const para = (text: string, indent = "", hang = indent) =>
    out.push(...wrap(ascii(text), MAIL_WIDTH, indent, hang));
  if (opts.note !== null) para(opts.note);
  para(`Verdict: ${r.verdict.status.toUpperCase()}: ${r.verdict.line}.`);
  if (r.verdict.cannotReview !== null) {
    para(
      `Could not review ${r.verdict.cannotReview.scenarios.length} of ${r.verdict.cannotReview.total} scenarios:`,
    );
    for (const l of cannotReviewLines(r).slice(0, 4)) para(l, "  - ", "    ");
  }
  for (const c of opts.causes) {
    out.push("");
    para(c.line);
    para(c.detail, "  ", "  ");
    out.push(...causeSection(r, c));
  }
  if (opts.scenarios.length > 0) {
    out.push("", `Scenarios that behave differently from ${r.a.id} (${opts.scenarios.length}):`);
    for (const s of opts.scenarios.slice(0, SCENARIO_LINES)) {
      const d = s.divergence;
      para(
        d
          ? `${s.scenario}: step ${d.step}: ${r.a.id} ${describeStep(d.a)} / ${r.b.id} ${describeStep(d.b)}`
          : s.scenario,
        "  - ",
        "    ",
      );
    }
    if (opts.scenarios.length > SCENARIO_LINES)
      out.push(`  ... and ${opts.scenarios.length - SCENARIO_LINES} more`);
  }
  const { fetch, rewrite } = fetchable(r);
  out.push("", "Full report:");
  for (const f of fetch) out.push(`  ${f}`);
  out.push(`  ${rewrite(r.reproduce.command)}`);
  return out.join("\n");
}

export function b4Checks(r: ReviewReport, ctx: B4Context): B4Check[] {
  const aloneNote = ctx.alone
    ? "checked alone: the rest of the series was not available (give --series), so facts other patches set are as in the baseline"
    : null;
  if (ctx.message.kind === "cover") {
    const c = r.diff.counts;
    const quiet =
      c.different === 0 &&
      c.introduced === 0 &&
      c.carried === 0 &&
      c.fixed === 0 &&
      c.unknown === 0 &&
      c.missing === 0;
    if (quiet && r.verdict.status === "pass" && aloneNote === null) return [];
    return [
      {
        tool: "rproc-review",
        status: r.verdict.status,
        summary: r.verdict.line,
        details: details(r, {
          note: aloneNote,
          causes: r.causes.filter((c) => c.class === "introduced" || c.class === "carried"),
          scenarios: r.diff.scenarios.filter((s) => s.status === "different"),
        }),
      },
    ];
  }
  const index = ctx.message.index;
  const mine = scenariosOfPatch(r, index);
  // Root causes whose posted line is in this patch: introduced or still carried, they fail it.
  const causes = r.causes.filter(
    (c) => (c.class === "introduced" || c.class === "carried") && c.where?.patch === index,
  );
  if (mine.length === 0 && causes.length === 0 && aloneNote === null) return [];
  // A finding is this patch's when it is raised in a function the patch's evidence names.
  const functions = new Set(
    mine.flatMap((s) =>
      s.facts.flatMap((f) => f.evidenceB.filter((e) => e.patch === index).map((e) => e.function)),
    ),
  );
  const introduced = mine.flatMap((s) =>
    s.findings.filter((f) => f.class === "introduced" && functions.has(f.at)),
  );
  const unmentioned = mine.filter(
    (s) => r.changelog.available && r.changelog.unmentioned.includes(s.scenario),
  );
  const status: VerdictStatus =
    introduced.length > 0 || causes.length > 0
      ? "fail"
      : unmentioned.length > 0 || aloneNote
        ? "warn"
        : "pass";
  const head =
    mine.length === 0
      ? causes.length > 0
        ? `patch ${index}: no behaviour difference from ${r.a.id}`
        : `patch ${index}: no behaviour difference traced to this patch (checked alone)`
      : `patch ${index}: ${mine.length} scenario${mine.length === 1 ? " behaves" : "s behave"} differently from ${r.a.id} because of this patch` +
        (introduced.length > 0
          ? `, ${introduced.length} finding${introduced.length === 1 ? "" : "s"} introduced`
          : "");
  const summary =
    causes.length > 0 ? `${head}; root causes on its lines: ${causes.map(causeBrief).join(", ")}` : head;
  return [
    {
      tool: "rproc-review",
      status,
      summary,
      details: details(r, { note: aloneNote, causes, scenarios: mine }),
    },
  ];
}

/**
 * The same checks in checkpatch's one-line form, as `b4 am --check` and `b4 prep --check` read a local check
 * command's output: one line a problem (`ERROR:` lines fail, the others warn), nothing when all is well. A
 * root cause on the patch's lines is its own line, with the posted file and line first, as checkpatch has it;
 * a check with no such cause is its summary.
 */
export function checkpatchLines(
  checks: readonly B4Check[],
  r: ReviewReport | null,
  index: number | null,
): string[] {
  const causes =
    r === null
      ? []
      : r.causes.filter(
          (c) =>
            (c.class === "introduced" || c.class === "carried") &&
            (index === null || c.where?.patch === index),
        );
  const out = causes.map((c) => {
    const where = c.where?.line != null ? `${c.where.file}:${c.where.line}` : null;
    const line = where === null ? c.line : c.line.replace(` (${where})`, "");
    return `ERROR: ${where === null ? "" : `${where}: `}${c.id} ${line}`.replace(/\s*\n\s*/g, " ");
  });
  if (out.length === 0)
    for (const c of checks) {
      if (c.status === "pass") continue;
      out.push(`${c.status === "fail" ? "ERROR" : "WARNING"}: ${c.summary.replace(/\s*\n\s*/g, " ")}`);
    }
  return [...new Set(out)];
}
