/**
 * b4's review check protocol: the checker reads one message (a patch or a cover letter) and prints a JSON
 * array of {tool, status, summary, details}; `[]` when it has nothing to say about that message. For a patch,
 * only what its own evidence explains is reported (differences whose responsible facts it sets); for a cover
 * letter, the whole review.
 */
import type { ScenarioDiff } from "../compare/types.ts";
import type { ReviewReport } from "../review/report.ts";
import type { VerdictStatus } from "../review/verdict.ts";
import { reviewText } from "./email.ts";

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
        details: [...(aloneNote ? [aloneNote, ""] : []), ...reviewText(r)].join("\n"),
      },
    ];
  }
  const index = ctx.message.index;
  const mine = scenariosOfPatch(r, index);
  if (mine.length === 0 && aloneNote === null) return [];
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
    introduced.length > 0 ? "fail" : unmentioned.length > 0 ? "warn" : aloneNote ? "warn" : "pass";
  const summary =
    mine.length === 0
      ? `patch ${index}: no behaviour difference traced to this patch (checked alone)`
      : `patch ${index}: ${mine.length} scenario${mine.length === 1 ? " behaves" : "s behave"} differently from ${r.a.id} because of this patch` +
        (introduced.length > 0
          ? `, ${introduced.length} finding${introduced.length === 1 ? "" : "s"} introduced`
          : "");
  return [
    {
      tool: "rproc-review",
      status,
      summary,
      details: [
        ...(aloneNote ? [aloneNote, ""] : []),
        ...reviewText(r, { scenarios: mine.map((s) => s.scenario), findingsAt: functions }),
      ].join("\n"),
    },
  ];
}
