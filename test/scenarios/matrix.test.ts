import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { renderMatrixText } from "../../src/scenarios/render.ts";
import type { CellResult, MatrixResult } from "../../src/scenarios/result.ts";
import { type Design, runMatrix, runScenario } from "../../src/scenarios/run.ts";
import { SCENARIOS } from "../../src/scenarios/scenarios.ts";
import { applyFactChanges } from "../../src/semantics/facts.ts";
import { MAINLINE } from "../../src/semantics/versions.ts";

const mainline: Design = { id: "mainline", title: "Linux v6.15 (no TEE)", facts: MAINLINE };

const CONTRACT_IDS = [
  "boot",
  "boot-bad-signature",
  "boot-no-resource-table",
  "shutdown",
  "restart",
  "firmware-change",
  "crash-recovery",
  "crash-recovery-bad-image",
  "crash-recovery-disabled",
  "tee-start-fails",
  "tee-unbind-while-running",
  "rproc-unbind-while-running",
  "double-start",
  "attach-running",
  "multi-firmware",
  "probe-binding-dt",
  "rproc-remove@REMOTEPROC_TEE=n",
];

describe("scenarios on mainline", () => {
  let m: MatrixResult;
  const cell = (id: string): CellResult => {
    const c = m.results.find((r) => r.scenario === id);
    if (c === undefined) throw new Error(`no cell ${id}`);
    return c;
  };

  it("has exactly the contract's scenario ids", async () => {
    expect(SCENARIOS.map((s) => s.id)).toEqual(CONTRACT_IDS);
    m = await runMatrix([mainline]);
    expect(m.results.map((r) => r.scenario)).toEqual(CONTRACT_IDS);
  });

  it.each([
    ["boot", "running", 0],
    ["boot-no-resource-table", "running", 0],
    ["shutdown", "offline", 0],
    ["restart", "running", 0],
    ["firmware-change", "running", 0],
    ["crash-recovery", "running", 0],
    ["crash-recovery-disabled", "crashed", -22],
    ["rproc-unbind-while-running", "absent", 0],
    ["double-start", "running", 0],
    ["attach-running", "offline", 0],
  ])("%s ends %s with errno %d", (id, state, errno) => {
    const c = cell(id);
    expect(c.applicable).toBe(true);
    expect(c.finalState).toBe(state);
    expect(c.errno).toBe(errno);
    expect(c.ok).toBe(errno === 0);
    expect(c.tee).toEqual([]);
    expect(c.unknown).toBe(false);
  });

  it("marks the TEE-only scenarios n/a with a reason", () => {
    for (const id of [
      "boot-bad-signature",
      "crash-recovery-bad-image",
      "tee-start-fails",
      "tee-unbind-while-running",
      "multi-firmware",
      "probe-binding-dt",
      "rproc-remove@REMOTEPROC_TEE=n",
    ]) {
      const c = cell(id);
      expect(c.applicable).toBe(false);
      expect(c.reason).toMatch(/^the design has no TEE loader \(fact tee: none\)/);
      expect(c.factsRead).toContain("tee");
    }
  });

  it("finds the v6.15 leak of crash-recovery-disabled (shutdown refuses CRASHED) and nothing on clean paths", () => {
    const leaks = cell("crash-recovery-disabled").findings.filter((f) => f.kind === "leak");
    expect(leaks.map((f) => f.at).sort()).toEqual([
      "rproc_alloc",
      "rproc_elf_load_rsc_table",
      "rproc_handle_trace",
      "rproc_handle_vdev",
      "stm32_rproc_mem_alloc",
      "stm32_rproc_prepare",
    ]);
    for (const id of ["boot", "shutdown", "restart", "crash-recovery", "double-start", "attach-running"]) {
      expect(cell(id).findings).toEqual([]);
    }
  });

  it("records the facts a cell read and its trace steps in the contract's shape", () => {
    const c = cell("shutdown");
    expect(c.factsRead).toEqual(
      expect.arrayContaining(["core.loadSegmentsOp", "core.releaseFwCalls", "stm32.teeCompatible"]),
    );
    for (const t of c.trace) {
      expect(["core", "tee", "ta", "platform", "stm32"]).toContain(t.layer);
      expect(typeof t.fn).toBe("string");
    }
  });

  it("renders the text table with a verdict per cell and the finding markers", () => {
    const text = renderMatrixText(m);
    expect(text).toMatch(/crash-recovery-disabled\s+-EINVAL !leak/);
    expect(text).toMatch(/\nboot\s+ok\n/);
    expect(text).toContain("mainline / tee-start-fails: the design has no TEE loader (fact tee: none)");
  });
});

describe("facts drive behaviour", () => {
  it("a cell that reads a fact the mapper could not read is unknown", async () => {
    const c = await runScenario(
      { ...mainline, id: "partial", unknownFacts: ["core.releaseFwCalls"] },
      "shutdown",
    );
    expect(c.unknown).toBe(true);
    const d = await runScenario({ ...mainline, id: "partial", unknownFacts: ["tee.ctxLock"] }, "shutdown");
    expect(d.unknown).toBe(false);
  });

  it("a design where the segment loader may be missing (returns 0) still needs the op the driver sets", async () => {
    const { facts, errors } = applyFactChanges(MAINLINE, {
      "core.loadSegmentsOp": "load_segments",
      "core.loadSegmentsWhenMissing": "zero",
      "core.elfDefaultsUnless": ["load_segments"],
    });
    expect(errors).toEqual([]);
    const c = await runScenario({ id: "renamed", title: "renamed", facts }, "boot");
    expect(c.finalState).toBe("running");
    expect(c.trace.some((t) => t.fn === "rproc_elf_load_segments" && t.event === "call")).toBe(true);
  });

  it("folds identical columns in the text table only, never in the JSON", async () => {
    const twin: Design = { ...mainline, id: "twin", title: "same facts" };
    const m = await runMatrix([mainline, twin], ["boot", "shutdown"]);
    expect(m.versions.map((v) => v.id)).toEqual(["mainline", "twin"]);
    expect(m.results.length).toBe(4);
    const text = renderMatrixText(m);
    expect(text).toContain("mainline=twin");
    expect(text).toContain("note: mainline, twin give identical results");
  });
});

describe("rproc-review matrix (CLI)", () => {
  it("prints JSON in the contract's shape and exits 0", async () => {
    const chunks: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => {
      chunks.push(s);
      return true;
    }) as typeof process.stdout.write;
    let code: number;
    try {
      code = await main([
        "node",
        "rproc-review",
        "matrix",
        "--versions",
        "mainline",
        "--scenarios",
        "boot,crash-recovery-disabled",
        "--json",
      ]);
    } finally {
      process.stdout.write = write;
    }
    expect(code).toBe(0);
    const json = JSON.parse(chunks.join("")) as MatrixResult;
    expect(json.versions).toEqual([{ id: "mainline", title: "Linux v6.15 (no TEE)" }]);
    expect(json.scenarios.map((s) => s.id)).toEqual(["boot", "crash-recovery-disabled"]);
    expect(json.results[1]).toMatchObject({
      version: "mainline",
      scenario: "crash-recovery-disabled",
      applicable: true,
      ok: false,
      errno: -22,
      finalState: "crashed",
      unknown: false,
    });
  });

  it("rejects an unknown version id with a usage error listing the known ones", async () => {
    const errs: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => {
      errs.push(s);
      return true;
    }) as typeof process.stderr.write;
    let code: number;
    try {
      code = await main(["node", "rproc-review", "matrix", "--versions", "v99"]);
    } finally {
      process.stderr.write = write;
    }
    expect(code).toBe(2);
    expect(errs.join("")).toMatch(/unknown version "v99": neither a built-in id \(mainline, v13/);
  });
});
