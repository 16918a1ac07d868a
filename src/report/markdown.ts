/**
 * GitHub markdown: verdict line, compact matrix, the differences with evidence, the changelog check, Mermaid
 * sequence diagrams of the scenarios that differ, collapsible per-scenario details and a reproduce line. Kept
 * below GitHub's 65,535-character limit of a check-run text by dropping details, then diagrams, then
 * differences, with a note saying what was trimmed.
 */
import type { ExploreFindingRef } from "../compare/explore.ts";
import type { ScenarioDiff } from "../compare/types.ts";
import type { ReviewReport } from "../review/report.ts";
import { describeRan } from "../scenarios/result.ts";
import {
  describeCell,
  describeChanged,
  describeExploreMainline,
  describeExploreSequence,
  describeFactChange,
  describeFactPaths,
  describeFinding,
  describeHunk,
  describeInterleaveClass,
  describeResponsible,
  describeSchedule,
  describeStep,
  describeStepSite,
  describeTee,
  describeUnmentionedFact,
  EXPLORE_NOTHING_ALONE,
  evidenceLines,
  exploreIntro,
  factsHeading,
  INTERLEAVE_NOTHING,
  inertLine,
  interleaveGroups,
  interleaveIntro,
  scenarioList,
  unjudgedExploreRaiser,
} from "./describe.ts";
import { escapeHtml, markdownCode, markdownText } from "./escape.ts";
import { sequenceDiagram } from "./mermaid.ts";
import {
  cannotReviewLines,
  causalFacts,
  describeNote,
  describeNoteMatches,
  differing,
  excerpt,
  groupFindings,
  notesMentioning,
  sectionFindings,
  silentFactChanges,
} from "./sections.ts";

export const CHECK_RUN_TEXT_LIMIT = 65_535;

export interface MarkdownOptions {
  /** Character limit of the whole text; default CHECK_RUN_TEXT_LIMIT. */
  maxChars?: number;
  /** Character limit of one Mermaid block; default that of mermaid.ts. */
  mermaidMaxChars?: number;
}

const ICON = { pass: "✅", warn: "⚠️", fail: "❌" } as const;
const STATUS_MARK = {
  same: "same",
  different: "**differs**",
  unknown: "unknown",
  missing: "one side only",
} as const;
const CLASS_MARK = { introduced: "❌", carried: "🔴", fixed: "✅", "pre-existing": "▫️" } as const;

// Text from the series or the pull request goes through these (src/report/escape.ts): shown, never markup.
const code = markdownCode;
const cell = markdownText;
const t = markdownText;
const html = escapeHtml;

function header(r: ReviewReport): string[] {
  const side = (v: ReviewReport["a"]) => {
    const source =
      v.factSource === "mapper"
        ? "facts mapped from its patches"
        : v.factSource === "oracle-mapped"
          ? "built-in, with the mapper's evidence"
          : "built-in, hand-read oracle";
    return `**${t(v.id)}** (${t(v.title)}; ${source})`;
  };
  const lines = [`## ${ICON[r.verdict.status]} rproc-review: ${t(r.verdict.line)}`, ""];
  lines.push(`Compared ${side(r.a)} with ${side(r.b)}.`);
  const ran = [r.a, r.b].filter((v) => v.ran !== undefined);
  if (ran.length > 0)
    lines.push(`What ran: ${ran.map((v) => `**${t(v.id)}**: ${t(describeRan(v.ran))}`).join("; ")}.`);
  if (r.diff.mainline)
    lines.push(
      `Findings also seen in ${t(r.diff.mainline.id)} are pre-existing and never blamed on ${t(r.b.id)}.`,
    );
  const s = r.b.series;
  if (s)
    lines.push(
      `Series: ${t(s.title)} (${t(s.version)}, ${s.total} patches${s.base ? `, base ${code(s.base)}` : ""}).`,
    );
  for (const n of r.notes) lines.push(`> ${t(n)}`);
  return lines;
}

function matrix(r: ReviewReport): string[] {
  const lines = [
    "",
    "### Matrix",
    "",
    `| scenario | ${cell(r.a.id)} | ${cell(r.b.id)} | | findings in ${cell(r.b.id)} |`,
    "|---|---|---|---|---|",
  ];
  for (const s of r.diff.scenarios) {
    const counts = (["introduced", "carried", "fixed", "pre-existing"] as const)
      .map((c) => [c, s.findings.filter((f) => f.class === c).length] as const)
      .filter(([, n]) => n > 0)
      .map(([c, n]) => `${CLASS_MARK[c]} ${n} ${c}`);
    lines.push(
      `| ${code(s.scenario)} | ${cell(describeCell(s.a))} | ${cell(describeCell(s.b))} | ${STATUS_MARK[s.status]} | ${counts.join(", ")} |`,
    );
  }
  return lines;
}

/** One line per root cause, first: class, kind, C function and posted line, the design change behind it. */
function rootCauses(r: ReviewReport): string[] {
  if (r.causes.length === 0) return [];
  const lines = ["", `### Root causes (${r.causes.length})`, ""];
  for (const c of r.causes) lines.push(`- ${CLASS_MARK[c.class]} **${c.id}** ${t(c.line)}`);
  return lines;
}

function introducedSection(r: ReviewReport): string[] {
  const groups = groupFindings(r, "introduced");
  if (groups.length === 0) return [];
  const lines = ["", `### Findings ${t(r.b.id)} introduces (${groups.length} distinct)`, ""];
  for (const g of groups)
    lines.push(`- ❌ **${t(g.kind)}** in ${code(g.at)}, ${scenarioList(g.scenarios)}: ${t(g.detail)}`);
  return lines;
}

function carriedSection(r: ReviewReport): string[] {
  const groups = groupFindings(r, "carried");
  if (groups.length === 0) return [];
  const lines = ["", `### Findings ${r.b.id} still carries (${groups.length} distinct, not in mainline)`, ""];
  for (const g of groups)
    lines.push(
      `- 🔴 **${g.kind}** in ${code(g.at)}${g.since ? ` (since ${cell(g.since)})` : ""}, ${scenarioList(g.scenarios)}: ${g.detail}`,
    );
  return lines;
}

function cannotReviewSection(r: ReviewReport): string[] {
  const c = r.verdict.cannotReview;
  if (c === null) return [];
  const lines = ["", `### Could not review ${c.scenarios.length} of ${c.total} scenarios`, ""];
  for (const l of cannotReviewLines(r)) lines.push(`- ❔ ${l}`);
  return lines;
}

function exploreSection(r: ReviewReport): string[] {
  const x = r.explore;
  if (x === undefined) return [];
  const lines = ["", `### Event interleavings (explore, depth ${x.depth})`, "", exploreIntro(x)];
  if (x.introduced.length + x.fixed.length + x.carried.length === 0) {
    lines.push("", EXPLORE_NOTHING_ALONE);
    return lines;
  }
  lines.push("", "| | Finding | Shortest sequence | Mainline | Replay |", "|---|---|---|---|---|");
  const row = (mark: string, f: ExploreFindingRef) =>
    `| ${mark} | **${cell(f.kind)}** in ${code(f.at)}${f.site === undefined ? "" : ` (${code(`${f.site.file}:${f.site.line}`)})`}: ${cell(f.detail)} | ${f.events.length === 0 ? describeExploreSequence(f) : code(describeExploreSequence(f))} | ${cell(describeExploreMainline(f))} | ${code(f.replay)} |`;
  if (x.unknown !== null) {
    // Not judged: which side raised each, no class (unjudgedExploreRaiser).
    for (const [group, fs] of [
      ["introduced", x.introduced],
      ["carried", x.carried],
      ["fixed", x.fixed],
    ] as const)
      for (const f of fs) lines.push(row(`❔ ${unjudgedExploreRaiser(group, r.a.id, r.b.id)}`, f));
    return lines;
  }
  for (const f of x.introduced)
    lines.push(row(f.mainline === "present" ? CLASS_MARK["pre-existing"] : "❌ new", f));
  for (const f of x.carried) lines.push(row("🔴 carried", f));
  for (const f of x.fixed) lines.push(row("✅ gone", f));
  return lines;
}

function interleaveSection(r: ReviewReport): string[] {
  const x = r.interleave;
  if (x === undefined) return [];
  const lines = ["", `### Thread interleavings (depth ${x.depth})`, "", interleaveIntro(x)];
  const groups = interleaveGroups(x);
  if (groups.length === 0) {
    lines.push("", INTERLEAVE_NOTHING);
    return lines;
  }
  lines.push(
    "",
    "| | Finding | Raised by | Scenarios | Shortest schedule | Replay |",
    "|---|---|---|---|---|---|",
  );
  for (const g of groups) {
    const site = g.site === undefined ? "" : ` (${code(`${g.site.file}:${g.site.line}`)})`;
    lines.push(
      `| ${CLASS_MARK[g.class]} ${g.class} | **${cell(g.kind)}** in ${code(g.at)} on ${cell(g.thread)}${site}: ${cell(g.detail)} | ${cell(describeInterleaveClass(g.class, r.a.id, r.b.id))} | ${g.scenarios.map(code).join(", ")} | ${cell(describeSchedule(g.schedule))} | ${code(g.replay)} |`,
    );
  }
  return lines;
}

function difference(r: ReviewReport, s: ScenarioDiff): string[] {
  const lines = ["", `#### ${code(s.scenario)}: ${t(s.title)}`, ""];
  lines.push(
    `Changed: ${describeChanged(s.changed)}. TA commands: ${t(r.a.id)} ${code(describeTee(s.a))} → ${t(r.b.id)} ${code(describeTee(s.b))}.`,
  );
  const d = s.divergence;
  if (d) {
    const state =
      d.before.rprocState === null ? "no state change yet" : `rproc state ${code(d.before.rprocState)}`;
    const ta = d.before.taCommands.length === 0 ? "none" : code(d.before.taCommands.join(" "));
    lines.push(
      `- **First divergence** at step ${d.step} (${state}; TA commands so far: ${ta}):`,
      `  - ${t(r.a.id)}: ${code(describeStep(d.a))}${t(describeStepSite(d.aAt))}`,
      `  - ${t(r.b.id)}: ${code(describeStep(d.b))}${t(describeStepSite(d.bAt))}`,
    );
  }
  if (s.hunks.length > 0) {
    lines.push(
      `- **Where the traces part** (${s.hunks.length === 6 ? "first 6 places" : `${s.hunks.length} place${s.hunks.length === 1 ? "" : "s"}`}):`,
    );
    for (const h of s.hunks) {
      const [x, y] = describeHunk(h, r.a, r.b);
      lines.push(`  - ${code(x)}`, `    ${code(y)}`);
    }
  }
  const heading = factsHeading(r.diff.attributed === true);
  lines.push(
    s.facts.length > 0
      ? `- **${heading}**: ${s.facts.map((f) => code(describeFactPaths([f]))).join(", ")} (values and evidence under *Design changes behind the differences*)`
      : `- **${heading}**: none.`,
  );
  const inert = inertLine(s.inertFacts);
  if (inert) lines.push(`- ${inert}`);
  const fs = sectionFindings(s);
  if (fs.length > 0) {
    lines.push("- **Findings**:");
    for (const f of fs) lines.push(`  - ${CLASS_MARK[f.class]} ${t(describeFinding(f))}`);
  }
  const notes = notesMentioning(r, s.scenario);
  if (!r.changelog.available) lines.push("- **Changelog**: not available.");
  else if (notes.length === 0) lines.push("- **Changelog**: ⚠️ no note mentions this difference.");
  else
    for (const n of notes)
      lines.push(`- **Changelog**: ${t(describeNote(n.note))} (via ${n.via.map(code).join(", ")})`);
  return lines;
}

function designChanges(r: ReviewReport): string[] {
  const facts = causalFacts(r);
  if (facts.length === 0) return [];
  const lines = ["", "### Design changes behind the differences", ""];
  for (const c of facts) {
    const said = !r.changelog.available
      ? ""
      : c.notes.length > 0
        ? ` Named in the changelog by ${t([...new Set(c.notes.map((n) => n.where))].join("; "))}.`
        : " ⚠️ No changelog note names it.";
    lines.push(`- ${code(describeResponsible(c.change, r.a, r.b))}: ${scenarioList(c.scenarios)}.${said}`);
    for (const e of evidenceLines(c.change, r.a, r.b)) lines.push(`  - ${t(e)}`);
  }
  return lines;
}

function changelogSection(r: ReviewReport): string[] {
  const c = r.changelog;
  const lines = ["", "### Changelog check", "", t(c.source)];
  if (!c.available) return lines;
  lines.push("", "**Stated, with a visible behaviour difference:**");
  for (const n of c.withDifference) lines.push(`- ${t(describeNote(n))} → ${t(describeNoteMatches(n))}`);
  if (c.withDifference.length === 0) lines.push("- none");
  lines.push("", "**Stated, with no visible behaviour difference:**");
  for (const n of c.withoutDifference) lines.push(`- ${t(describeNote(n))}`);
  if (c.withoutDifference.length === 0) lines.push("- none");
  lines.push("", "**Behaviour differences no note mentions:**");
  lines.push(c.unmentioned.length === 0 ? "- none" : `- ${c.unmentioned.map(code).join(", ")}`);
  lines.push("", "**Fact changes behind behaviour differences that no note names:**");
  for (const u of c.unmentionedFacts) lines.push(`- ${t(describeUnmentionedFact(u))}`);
  if (c.unmentionedFacts.length === 0) lines.push("- none");
  return lines;
}

function silentFacts(r: ReviewReport): string[] {
  const silent = silentFactChanges(r);
  if (silent.length === 0) return [];
  const lines = ["", "### Design changes no scenario shows", ""];
  for (const f of silent) lines.push(`- ${code(describeFactChange(f, r.a, r.b))}`);
  return lines;
}

function diagrams(r: ReviewReport, s: ScenarioDiff, maxChars: number | undefined): string[] {
  const traces = r.traces[s.scenario];
  if (!traces) return [];
  const lines = ["", `<details open><summary>Sequence diagrams: ${html(s.scenario)}</summary>`, ""];
  for (const [side, trace, cellOf, other] of [
    [r.a, traces.a, s.a, r.b.id],
    [r.b, traces.b, s.b, r.a.id],
  ] as const) {
    const dg = sequenceDiagram(trace, {
      findings: cellOf?.findings ?? [],
      divergence: s.divergence ? { step: s.divergence.step, other } : null,
      ...(maxChars === undefined ? {} : { maxChars }),
    });
    lines.push(
      `**${t(side.id)}**${dg.trimmed > 0 ? ` (${dg.trimmed} lines trimmed)` : ""}`,
      "",
      "```mermaid",
      dg.text,
      "```",
      "",
    );
  }
  lines.push("</details>");
  return lines;
}

function details(r: ReviewReport, s: ScenarioDiff): string[] {
  const lines = ["", `<details><summary>${html(s.scenario)}: ${html(s.status)}</summary>`, ""];
  lines.push(`| | ${cell(r.a.id)} | ${cell(r.b.id)} |`, "|---|---|---|");
  const row = (name: string, f: (c: NonNullable<ScenarioDiff["a"]>) => string) =>
    lines.push(`| ${name} | ${cell(s.a ? f(s.a) : "not run")} | ${cell(s.b ? f(s.b) : "not run")} |`);
  row("outcome", (c) => describeCell(c));
  row("TA commands", (c) => describeTee(c));
  row("trace steps", (c) => String(c.steps));
  row("findings", (c) => c.findings.map((f) => `${f.kind} in ${f.at}`).join("; ") || "none");
  if (s.a && !s.a.applicable) lines.push("", `${t(r.a.id)}: not applicable: ${t(s.a.reason ?? "")}`);
  if (s.b && !s.b.applicable) lines.push("", `${t(r.b.id)}: not applicable: ${t(s.b.reason ?? "")}`);
  const traces = r.traces[s.scenario];
  if (traces) {
    const at = s.divergence?.step ?? null;
    for (const [side, trace] of [
      [r.a, traces.a],
      [r.b, traces.b],
    ] as const) {
      lines.push("", `${t(side.id)}, steps around the divergence:`, "", "```");
      for (const [i, step] of excerpt(trace, at))
        lines.push(
          `${i === at ? ">" : " "}${String(i).padStart(4)} ${describeStep(step).replace(/`/g, "'")}`,
        );
      lines.push("```");
    }
  }
  lines.push("", "</details>");
  return lines;
}

/** A block of the text and the priority at which it is dropped (higher goes first; 0 is never dropped). */
interface Block {
  lines: string[];
  drop: number;
  what: string;
}

export function renderMarkdown(r: ReviewReport, opts: MarkdownOptions = {}): string {
  const limit = opts.maxChars ?? CHECK_RUN_TEXT_LIMIT;
  const diffs = differing(r);
  const blocks: Block[] = [
    { lines: header(r), drop: 0, what: "header" },
    // What could not be reviewed comes first, then the root causes, then the matrix.
    { lines: cannotReviewSection(r), drop: 0, what: "cannot review" },
    { lines: rootCauses(r), drop: 0, what: "root causes" },
    { lines: matrix(r), drop: 0, what: "matrix" },
    { lines: introducedSection(r), drop: 0, what: "findings" },
    { lines: carriedSection(r), drop: 0, what: "carried findings" },
    { lines: exploreSection(r), drop: 0, what: "explore" },
    { lines: interleaveSection(r), drop: 0, what: "interleavings" },
    { lines: ["", `### Behaviour differences (${diffs.length})`], drop: 0, what: "heading" },
    ...diffs.map((s) => ({ lines: difference(r, s), drop: 1, what: "difference" })),
    { lines: designChanges(r), drop: 0, what: "design changes" },
    { lines: changelogSection(r), drop: 0, what: "changelog" },
    { lines: silentFacts(r), drop: 1, what: "silent design changes" },
    ...(diffs.length > 0 ? [{ lines: ["", "### Sequence diagrams"], drop: 0, what: "diagram heading" }] : []),
    // The first differing scenario keeps its diagrams longest: they go only after every difference section.
    ...diffs.map((s, i) => ({
      lines: diagrams(r, s, opts.mermaidMaxChars),
      drop: i === 0 ? 0.5 : 2,
      what: "diagram",
    })),
    { lines: ["", "### Details"], drop: 0, what: "details heading" },
    ...r.diff.scenarios.map((s) => ({ lines: details(r, s), drop: 3, what: "details" })),
  ];
  const reproduce = ["", `**Reproduce:** ${code(r.reproduce.command)}`, ""];
  // Each block's length once: the loop below drops blocks one at a time, and summing every kept block
  // again at each drop made trimming a long report quadratic.
  const lengths = new Map(blocks.map((b) => [b, b.lines.join("\n").length + 1]));
  let keptSize = blocks.reduce((n, b) => n + (lengths.get(b) as number), 0);
  const dropped = new Map<string, number>();
  const trimNote = () =>
    dropped.size === 0
      ? []
      : [
          "",
          `> ✂️ Trimmed ${[...dropped].map(([w, n]) => `${n} ${w} section${n === 1 ? "" : "s"}`).join(", ")} to stay below GitHub's ${limit.toLocaleString("en-US")}-character limit; \`--format json\` or the reproduce command gives everything.`,
        ];
  const kept = [...blocks];
  const reserve = () => reproduce.join("\n").length + trimNote().join("\n").length + 200;
  while (keptSize + reserve() > limit) {
    let victim = -1;
    for (let i = kept.length - 1; i >= 0; i--) {
      const b = kept[i] as Block;
      if (b.drop > 0 && (victim < 0 || b.drop > (kept[victim] as Block).drop)) victim = i;
    }
    if (victim < 0) break;
    const [b] = kept.splice(victim, 1) as [Block];
    keptSize -= lengths.get(b) as number;
    dropped.set(b.what, (dropped.get(b.what) ?? 0) + 1);
  }
  // A heading whose sections were all trimmed goes too.
  const shown = kept.filter(
    (b) => !b.what.endsWith(" heading") || kept.some((x) => x.what === b.what.replace(" heading", "")),
  );
  const body = [...shown.flatMap((b) => b.lines), ...trimNote()].join("\n");
  const tail = reproduce.join("\n");
  if (body.length + 1 + tail.length <= limit) return `${body}\n${tail}`;
  // Even the sections that are never dropped are too long: cut them, keep the reproduce line.
  const cut = `\n\n> ✂️ Cut at ${limit.toLocaleString("en-US")} characters; \`--format json\` gives everything.\n`;
  return `${body.slice(0, Math.max(0, limit - cut.length - tail.length))}${cut}${tail}`;
}
