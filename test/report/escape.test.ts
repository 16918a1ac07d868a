/**
 * Text from a pull request or a mail is shown, never interpreted: a title ending in `<!--` hides nothing
 * after it, `@everyone` notifies nobody, links and images are inert, in markdown, HTML and Mermaid.
 */
import { describe, expect, it } from "vitest";
import { escapeHtml, markdownText, mermaidLabel } from "../../src/report/escape.ts";
import { renderMarkdown } from "../../src/report/index.ts";
import { buildReport } from "../../src/review/index.ts";
import { series } from "../compare/fixtures.ts";
import { mainlineSide, SCENARIOS, V16_NOTES, v15Side, v16Side } from "../compare/scenarios.ts";

const HOSTILE =
  "frobnicate @everyone [click](https://evil.example/x) ![img](https://evil.example/i.png) <img src=x onerror=alert(1)> | cell\n# heading <!--";

function hostileReport() {
  const s = series("v16", V16_NOTES.cover, V16_NOTES.patches);
  s.title = HOSTILE;
  const b = v16Side(s);
  b.title = HOSTILE;
  return buildReport(v15Side(), b, { mainline: mainlineSide(), scenarios: SCENARIOS });
}

/** Markup outside code spans: what GitHub would interpret. */
function outsideCode(md: string): string {
  return md.replace(/```[\s\S]*?```/g, "").replace(/`[^`\n]*`/g, "");
}

describe("escaping of input text", () => {
  it("keeps a hostile pull request title inert in the markdown comment, and the findings visible", () => {
    const md = renderMarkdown(hostileReport());
    const prose = outsideCode(md);
    // No HTML comment or element opens from the title, so nothing after it is hidden.
    expect(prose).not.toMatch(/(?<!\\)<!--/);
    expect(prose).not.toMatch(/(?<!\\)<img/);
    // No mention, link or image.
    expect(prose).not.toMatch(/@everyone/);
    expect(prose).toContain("@\u200beveryone");
    expect(prose).not.toMatch(/(?<!\\)\]\(https:\/\/evil/);
    // The title stays on its line: no heading or table cell starts inside it.
    expect(md).not.toMatch(/^# heading/m);
    const titleLine = md.split("\n").find((l) => l.includes("frobnicate @"));
    expect(titleLine).toContain("\\| cell # heading \\<!--");
    // What follows the title is all there.
    expect(md).toMatch(/\| scenario \| v15 \| v16 \|/);
    expect(md).toContain("### Findings v16 introduces");
    expect(md).toContain("**Reproduce:**");
  });

  it("escapes for each format", () => {
    expect(markdownText("a <!-- b")).toBe("a \\<!-- b");
    expect(markdownText("[x](u) ![y](v) [z][r]")).toBe("[x\\](u) ![y\\](v) [z\\][r]");
    expect(markdownText("[v16 patch 3] file.c")).toBe("[v16 patch 3] file.c");
    expect(markdownText("x\r\n| y @org/team")).toBe("x \\| y @\u200borg/team");
    expect(escapeHtml(`<a href="x">'&`)).toBe("&lt;a href=&quot;x&quot;&gt;&#39;&amp;");
    expect(mermaidLabel("a; b --> c #35; <br> %% d")).toBe("a b -→ c 35 br d");
  });
});
