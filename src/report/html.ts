/**
 * A self-contained HTML report: verdict, matrix, differences with evidence, changelog check, and the sequence
 * diagrams rendered in the page by mermaid's browser bundle, which the caller passes in (the Node CLI inlines
 * node_modules/mermaid/dist/mermaid.min.js; see src/node/html.ts). No request leaves the page.
 */

import type { ExploreFindingRef } from "../compare/explore.ts";
import type { ScenarioDiff } from "../compare/types.ts";
import type { ReviewReport } from "../review/report.ts";
import {
  describeCell,
  describeChanged,
  describeExploreAt,
  describeExploreMainline,
  describeExploreSequence,
  describeFactChange,
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
import { escapeHtml } from "./escape.ts";
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

export interface HtmlOptions {
  /** The text of mermaid's browser bundle (mermaid.min.js), inlined into the page. */
  mermaidScript: string;
}

export { escapeHtml };

const e = escapeHtml;
const li = (items: string[]) =>
  items.length === 0 ? "<p>none</p>" : `<ul>${items.map((i) => `<li>${i}</li>`).join("")}</ul>`;

/** Makes a script safe to inline: no "</script" can close the element early. */
export function inlineScript(js: string): string {
  return js.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");
}

const STYLE = `
body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:72em;padding:0 1em;color:#1f2328}
h1{font-size:1.4em} h2{border-bottom:1px solid #d0d7de;padding-bottom:.2em}
table{border-collapse:collapse;margin:1em 0} td,th{border:1px solid #d0d7de;padding:.3em .6em;text-align:left}
code,pre{font:13px ui-monospace,monospace} pre{background:#f6f8fa;padding:.6em;overflow:auto}
.pass{color:#1a7f37} .warn{color:#9a6700} .fail{color:#cf222e} .differs{font-weight:bold}
.diagrams{display:flex;flex-wrap:wrap;gap:1em} .diagrams>div{flex:1 1 30em;min-width:0}
`;

function difference(r: ReviewReport, s: ScenarioDiff): string {
  const parts = [`<h3 id="s-${e(s.scenario)}"><code>${e(s.scenario)}</code>: ${e(s.title)}</h3>`];
  parts.push(
    `<p>Changed: ${e(describeChanged(s.changed))}. TA commands: ${e(r.a.id)} <code>${e(describeTee(s.a))}</code> → ${e(r.b.id)} <code>${e(describeTee(s.b))}</code>.</p>`,
  );
  const d = s.divergence;
  if (d) {
    parts.push(
      `<p>First divergence at step ${d.step} (rproc state: ${e(d.before.rprocState ?? "no change yet")}; TA commands so far: ${e(d.before.taCommands.join(" ") || "none")}):</p>`,
      li([
        `${e(r.a.id)}: <code>${e(describeStep(d.a))}</code>${e(describeStepSite(d.aAt))}`,
        `${e(r.b.id)}: <code>${e(describeStep(d.b))}</code>${e(describeStepSite(d.bAt))}`,
      ]),
    );
  }
  if (s.hunks.length > 0)
    parts.push(
      "<p>Where the traces part:</p>",
      li(
        s.hunks.map((h) =>
          describeHunk(h, r.a, r.b)
            .map((x) => `<code>${e(x)}</code>`)
            .join("<br>"),
        ),
      ),
    );
  const inert = inertLine(s.inertFacts);
  parts.push(
    `<p>${e(factsHeading(r.diff.attributed === true))}:</p>`,
    s.facts.length === 0
      ? "<p>none</p>"
      : li(
          s.facts.map(
            (f) =>
              `<code>${e(describeResponsible(f, r.a, r.b))}</code>${li(evidenceLines(f, r.a, r.b).map(e))}`,
          ),
        ),
    inert ? `<p>${e(inert)}</p>` : "",
  );
  const fs = sectionFindings(s);
  if (fs.length > 0)
    parts.push(
      "<p>Findings:</p>",
      li(
        fs.map(
          (f) =>
            `<span class="${f.class === "introduced" || f.class === "carried" ? "fail" : "pass"}">${e(describeFinding(f))}</span>`,
        ),
      ),
    );
  const notes = notesMentioning(r, s.scenario);
  parts.push(
    `<p>Changelog: ${
      !r.changelog.available
        ? "not available"
        : notes.length === 0
          ? '<span class="warn">no note mentions this difference</span>'
          : notes.map((n) => e(describeNote(n.note))).join("<br>")
    }</p>`,
  );
  const traces = r.traces[s.scenario];
  if (traces) {
    const diagram = (
      trace: typeof traces.a,
      findings: NonNullable<ScenarioDiff["a"]>["findings"],
      other: string,
    ) =>
      `<pre class="mermaid">${e(sequenceDiagram(trace, { findings, divergence: d ? { step: d.step, other } : null }).text)}</pre>`;
    parts.push(
      `<div class="diagrams"><div><h4>${e(r.a.id)}</h4>${diagram(traces.a, s.a?.findings ?? [], r.b.id)}</div><div><h4>${e(r.b.id)}</h4>${diagram(traces.b, s.b?.findings ?? [], r.a.id)}</div></div>`,
    );
    const at = d?.step ?? null;
    for (const [side, trace] of [
      [r.a, traces.a],
      [r.b, traces.b],
    ] as const) {
      const rows = excerpt(trace, at).map(
        ([i, step]) => `${i === at ? ">" : " "}${String(i).padStart(4)} ${describeStep(step)}`,
      );
      parts.push(
        `<details><summary>${e(side.id)}: steps around the divergence</summary><pre>${e(rows.join("\n"))}</pre></details>`,
      );
    }
  }
  return parts.join("\n");
}

function exploreHtml(r: ReviewReport): string {
  const x = r.explore;
  if (x === undefined) return "";
  const head = `<h2>Event interleavings (explore, depth ${x.depth})</h2>\n<p>${e(exploreIntro(x))}</p>`;
  if (x.introduced.length + x.fixed.length + x.carried.length === 0)
    return `${head}\n<p>${EXPLORE_NOTHING_ALONE}</p>`;
  const row = (cls: string, mark: string, f: ExploreFindingRef) =>
    `<tr><td class="${cls}">${mark}</td><td>${e(`${f.kind} in ${describeExploreAt(f)}: ${f.detail}`)}</td><td><code>${e(describeExploreSequence(f))}</code></td><td>${e(describeExploreMainline(f))}</td><td><code>${e(f.replay)}</code></td></tr>`;
  return `${head}
<table><thead><tr><th></th><th>finding</th><th>shortest sequence</th><th>mainline</th><th>replay</th></tr></thead>
<tbody>
${(
  x.unknown !== null
    ? // Not judged: which side raised each, without the colour of a class (unjudgedExploreRaiser).
      (["introduced", "carried", "fixed"] as const).flatMap((g) =>
        x[g].map((f) => row("", unjudgedExploreRaiser(g, r.a.id, r.b.id), f)),
      )
    : [
        ...x.introduced.map((f) => row(f.mainline === "present" ? "" : "fail", `only ${r.b.id}`, f)),
        ...x.fixed.map((f) => row("pass", `only ${r.a.id}`, f)),
        ...x.carried.map((f) => row("fail", "both, not mainline", f)),
      ]
).join("\n")}
</tbody></table>`;
}

function interleaveHtml(r: ReviewReport): string {
  const x = r.interleave;
  if (x === undefined) return "";
  const head = `<h2>Thread interleavings (depth ${x.depth})</h2>\n<p>${e(interleaveIntro(x))}</p>`;
  const groups = interleaveGroups(x);
  if (groups.length === 0) return `${head}\n<p>${INTERLEAVE_NOTHING}</p>`;
  const cls = (c: string) => (c === "introduced" || c === "carried" ? "fail" : c === "fixed" ? "pass" : "");
  const rows = groups.map(
    (g) =>
      `<tr><td class="${cls(g.class)}">${e(g.class)}</td><td>${e(`${g.kind} in ${g.at} on ${g.thread}${g.site === undefined ? "" : ` (${g.site.file}:${g.site.line})`}: ${g.detail}`)}</td><td>${e(describeInterleaveClass(g.class, r.a.id, r.b.id))}</td><td>${e(g.scenarios.join(", "))}</td><td>${e(describeSchedule(g.schedule))}</td><td><code>${e(g.replay)}</code></td></tr>`,
  );
  return `${head}
<table><thead><tr><th></th><th>finding</th><th>raised by</th><th>scenarios</th><th>shortest schedule</th><th>replay</th></tr></thead>
<tbody>
${rows.join("\n")}
</tbody></table>`;
}

/** The distinct findings of one class, one item each (as the markdown's findings sections). */
function findingsHtml(r: ReviewReport, klass: "introduced" | "carried", title: string): string {
  const groups = groupFindings(r, klass);
  if (groups.length === 0) return "";
  return `<h2>${e(title)} (${groups.length} distinct)</h2>\n${li(
    groups.map(
      (g) =>
        `<b>${e(g.kind)}</b> in <code>${e(g.at)}</code>${g.since ? ` (since ${e(g.since)})` : ""}, ${e(scenarioList(g.scenarios))}: ${e(g.detail)}`,
    ),
  )}`;
}

/** The design changes behind the differences, with their evidence (as the markdown's section). */
function designChangesHtml(r: ReviewReport): string {
  const facts = causalFacts(r);
  if (facts.length === 0) return "";
  return `<h2>Design changes behind the differences</h2>\n${li(
    facts.map(
      (c) =>
        `<code>${e(describeResponsible(c.change, r.a, r.b))}</code>: ${e(scenarioList(c.scenarios))}${li(evidenceLines(c.change, r.a, r.b).map((x) => e(x)))}`,
    ),
  )}`;
}

export function renderHtml(r: ReviewReport, opts: HtmlOptions): string {
  const diffs = differing(r);
  const matrix = r.diff.scenarios
    .map(
      (s) =>
        `<tr><td><a href="#s-${e(s.scenario)}"><code>${e(s.scenario)}</code></a></td><td>${e(describeCell(s.a))}</td><td>${e(describeCell(s.b))}</td><td class="${s.status === "different" ? "differs" : ""}">${e(s.status)}</td><td>${e(
          s.findings
            .filter((f) => f.inB)
            .map((f) => `${f.class}: ${f.kind} in ${f.at}`)
            .join("; "),
        )}</td></tr>`,
    )
    .join("\n");
  const c = r.changelog;
  const changelog = c.available
    ? [
        `<p>${e(c.source)}</p>`,
        "<h3>Stated, with a visible behaviour difference</h3>",
        li(c.withDifference.map((n) => `${e(describeNote(n))} → ${e(describeNoteMatches(n))}`)),
        "<h3>Stated, with no visible behaviour difference</h3>",
        li(c.withoutDifference.map((n) => e(describeNote(n)))),
        "<h3>Behaviour differences no note mentions</h3>",
        li(c.unmentioned.map((s) => `<code>${e(s)}</code>`)),
        "<h3>Fact changes behind behaviour differences that no note names</h3>",
        li(c.unmentionedFacts.map((u) => e(describeUnmentionedFact(u)))),
      ].join("\n")
    : `<p>${e(c.source)}</p>`;
  const silent = silentFactChanges(r);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>rproc-review: ${e(r.a.id)} → ${e(r.b.id)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1 class="${r.verdict.status}">rproc-review: ${e(r.verdict.line)}</h1>
<p>Compared <b>${e(r.a.id)}</b> (${e(r.a.title)}) with <b>${e(r.b.id)}</b> (${e(r.b.title)})${r.diff.mainline ? `; findings also seen in ${e(r.diff.mainline.id)} are pre-existing` : ""}.</p>
${r.notes.map((n) => `<p><i>${e(n)}</i></p>`).join("\n")}
${r.verdict.cannotReview ? `<h2>Could not review ${r.verdict.cannotReview.scenarios.length} of ${r.verdict.cannotReview.total} scenarios</h2>\n${li(cannotReviewLines(r).map((l) => e(l)))}` : ""}
${
  r.causes.length > 0
    ? `<h2>Root causes (${r.causes.length})</h2>\n${li(r.causes.map((c) => `<span class="${c.class === "introduced" || c.class === "carried" ? "fail" : "pass"}"><b>${e(c.id)}</b></span> ${e(c.line)}`))}`
    : ""
}
<h2>Matrix</h2>
<table><thead><tr><th>scenario</th><th>${e(r.a.id)}</th><th>${e(r.b.id)}</th><th></th><th>findings in ${e(r.b.id)}</th></tr></thead>
<tbody>
${matrix}
</tbody></table>
${findingsHtml(r, "introduced", `Findings ${r.b.id} introduces`)}
${findingsHtml(r, "carried", `Findings ${r.b.id} still carries (not in mainline)`)}
${exploreHtml(r)}
${interleaveHtml(r)}
<h2>Behaviour differences (${diffs.length})</h2>
${diffs.map((s) => difference(r, s)).join("\n")}
${designChangesHtml(r)}
<h2>Changelog check</h2>
${changelog}
${silent.length > 0 ? `<h2>Design changes no scenario shows</h2>\n${li(silent.map((f) => `<code>${e(describeFactChange(f, r.a, r.b))}</code>`))}` : ""}
<h2>Reproduce</h2>
<pre>${e(r.reproduce.command)}</pre>
<script>${inlineScript(opts.mermaidScript)}</script>
<script>mermaid.initialize({ startOnLoad: true, securityLevel: "strict", sequence: { showSequenceNumbers: false } });</script>
</body>
</html>
`;
}
