/** The comparison over the real model: built-in v15 and v16 run by runMatrix, causes found by re-running. */
import { describe, expect, it } from "vitest";
import { builtinSide, type CellRunner, cellsOf } from "../../src/compare/index.ts";
import { loadFixtures } from "../../src/emulator/api.ts";
import { type ReviewReport, renderMarkdown } from "../../src/report/index.ts";
import { reviewVersions } from "../../src/review/index.ts";
import { type Design, runMatrix, runScenario } from "../../src/scenarios/run.ts";
import { BUILTIN_VERSIONS, MAINLINE } from "../../src/semantics/versions.ts";
import { mermaidBlocks, mermaidParse } from "../report/mermaid-parser.ts";

const builtin = (id: string) => {
  const v = BUILTIN_VERSIONS.find((x) => x.id === id);
  if (!v) throw new Error(`no built-in ${id}`);
  return v;
};

async function review(aId: string, bId: string, scenarios: string[]): Promise<ReviewReport> {
  const [a, b] = [builtin(aId), builtin(bId)];
  const m = BUILTIN_VERSIONS.find((v) => v.facts === MAINLINE);
  if (!m) throw new Error("no mainline");
  const designs: Design[] = [a, b, m].map((v) => ({ id: v.id, title: v.title, facts: v.facts }));
  const matrix = await runMatrix(designs, scenarios);
  const fixtures = await loadFixtures();
  const run: CellRunner = (facts, scenario) =>
    runScenario({ id: b.id, title: b.title, facts }, scenario, fixtures);
  return reviewVersions(
    builtinSide(a, cellsOf(matrix.results, a.id)),
    builtinSide(b, cellsOf(matrix.results, b.id)),
    run,
    { mainline: builtinSide(m, cellsOf(matrix.results, m.id)), scenarios: matrix.scenarios },
  );
}

describe("v15 → v16 on the real model", () => {
  it("shows the second LOAD of v16's boot, blames the facts that cause it, and parses as Mermaid", async () => {
    const r = await review("v15", "v16", ["boot", "shutdown"]);
    const boot = r.diff.scenarios.find((s) => s.scenario === "boot");
    expect(boot?.status).toBe("different");
    expect(boot?.a?.tee.filter((c) => c === "LOAD_FW")).toHaveLength(1);
    expect(boot?.b?.tee.filter((c) => c === "LOAD_FW")).toHaveLength(2);
    const causes = boot?.facts.map((f) => f.path) ?? [];
    expect(causes).toContain("tee.parseFwLoads");
    expect(causes).toContain("tee.ctxLock");
    // every cause was checked by re-running v16 with it reverted alone
    expect(boot?.facts.every((f) => f.effect !== undefined)).toBe(true);
    expect(r.diff.attributed).toBe(true);
    const introduced = boot?.findings.filter((f) => f.class === "introduced").map((f) => `${f.kind}@${f.at}`);
    expect(introduced).toContain("sleep-in-atomic@rproc_tee_register");
    const md = renderMarkdown(r);
    expect(md).toContain("#### `boot`: ");
    const blocks = mermaidBlocks(md);
    expect(blocks.length).toBeGreaterThan(0);
    for (const b of blocks) await mermaidParse(b);
  });

  it("finds no difference between v16 and its RESEND, and fails it on the bugs it still carries", async () => {
    const r = await review("v16", "v16-resend", ["boot", "crash-recovery"]);
    expect(r.diff.counts).toMatchObject({ different: 0, introduced: 0, fixed: 0 });
    expect(r.diff.factChanges).toEqual([]);
    const carried = r.diff.scenarios.flatMap((s) => s.findings).filter((f) => f.class === "carried");
    expect(carried.map((f) => f.kind)).toContain("sleep-in-atomic");
    expect(r.verdict.status).toBe("fail");
    expect(r.verdict.line).toMatch(/carried/);
  });
});
