/** The pull request's view: a sticky comment of one screen and one annotation per root cause. */
import { describe, expect, it } from "vitest";
import { checkAnnotations, renderComment } from "../../src/report/index.ts";
import { buildReport } from "../../src/review/index.ts";
import { series } from "../compare/fixtures.ts";
import { mainlineSide, SCENARIOS, V16_NOTES, v15Side, v16Side } from "../compare/scenarios.ts";

const report = () =>
  buildReport(v15Side(), v16Side(series("v16", V16_NOTES.cover, V16_NOTES.patches)), {
    mainline: mainlineSide(),
    scenarios: SCENARIOS,
  });

describe("sticky comment", () => {
  it("is one screen: verdict, comparison, one row per root cause, where the rest is", () => {
    const r = report();
    const md = renderComment(r, { checksUrl: "https://github.com/o/r/pull/7/checks" });
    const lines = md.split("\n");
    expect(lines.length).toBeLessThan(40);
    expect(lines[0]).toMatch(/^## ❌ rproc-review: v15 → v16: /);
    expect(md).toContain("Compared **v16** with **v15** (given).");
    for (const c of r.causes) expect(md).toContain(`| ${c.id} `);
    expect(md).toContain("([checks](https://github.com/o/r/pull/7/checks))");
    expect(md).not.toContain("### Matrix");
  });
});

describe("check-run annotations", () => {
  it("put each root cause with a posted line on that line, failures for what is open", () => {
    const r = report();
    const ann = checkAnnotations(r);
    const withLine = r.causes.filter((c) => c.where?.line != null);
    expect(ann.length).toBeGreaterThan(0);
    expect(ann).toHaveLength(withLine.length);
    for (const a of ann) {
      const c = r.causes.find((x) => a.title.startsWith(`${x.id} `));
      expect(c?.where?.file).toBe(a.path);
      expect(a.start_line).toBe(c?.where?.line);
      expect(a.annotation_level).toBe(c?.class === "fixed" ? "notice" : "failure");
    }
  });
});
