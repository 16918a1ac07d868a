import { describe, expect, it } from "vitest";
import { compareVersions } from "../../src/compare/index.ts";
import { verdictOf } from "../../src/review/verdict.ts";
import type { CellResult, Finding, RanFile } from "../../src/scenarios/result.ts";
import { cell, facts, side, step } from "./fixtures.ts";

// A review whose sides ran the kernel's own files on two bases: a kernel tree's C on one side, the model
// kernel (the hand model) on the other. A difference there may be the base's, so it is judged on neither.
const leak = (at: string): Finding => ({
  kind: "leak",
  at,
  detail: `mem allocated in ${at} still allocated`,
  step: 1,
});
const lock = (at: string): Finding => ({
  kind: "sleep-in-atomic",
  at,
  detail: "kzalloc under a spinlock",
  step: 1,
});
const CORE = "drivers/remoteproc/remoteproc_core.c";
const TEE = "drivers/remoteproc/remoteproc_tee.c";
const fromC = (...files: string[]): RanFile[] =>
  files.map((file) => ({ file, from: "C", why: "the tree's" }));

function sides(aRan: RanFile[] | undefined, bRan: RanFile[] | undefined) {
  const cells = (v: string, extra: Finding[]): CellResult[] => [
    cell(v, "boot", [step("core", "rproc_boot", "call")], { findings: [lock("rproc_tee_register")] }),
    cell(v, "boot-bad-signature", [step("core", "rproc_boot", "call")], {
      ok: false,
      errno: -5,
      finalState: "offline",
      findings: [lock("rproc_tee_register"), ...extra],
    }),
  ];
  const a = side("v16", facts("v16"), cells("v16", []));
  const b = side("v17", facts("v16"), cells("v17", [leak("rproc_mem_entry_init")]));
  return { a: { ...a, ...(aRan ? { ran: aRan } : {}) }, b: { ...b, ...(bRan ? { ran: bRan } : {}) } };
}

describe("a review of two bases", () => {
  it("judges no scenario where they differ: unknown, naming the files and the sides, nothing classified", () => {
    const { a, b } = sides(undefined, fromC(CORE, TEE));
    const diff = compareVersions(a, b);
    const bad = diff.scenarios.find((s) => s.scenario === "boot-bad-signature");
    expect(bad?.status).toBe("unknown");
    expect(bad?.findings).toEqual([]);
    expect(bad?.unknownBecause).toEqual([
      {
        what: "core on two bases",
        files: [CORE],
        why: "v17 ran core from C on the kernel tree, v16 from the hand model: a difference may be the base's, not the series' (give v16 as mails to run it on the same tree)",
        side: "b",
      },
    ]);
    // Where both ran alike, what both raise is still carried: both sides ran it, whatever the code.
    const boot = diff.scenarios.find((s) => s.scenario === "boot");
    expect(boot?.status).toBe("same");
    expect(boot?.findings.map((f) => f.class)).toEqual(["carried"]);
    expect(diff.counts.introduced).toBe(0);
    const v = verdictOf(diff, {
      available: false,
      source: "",
      withDifference: [],
      withoutDifference: [],
      unmentioned: [],
      unmentionedFacts: [],
    });
    expect(v.line).toMatch(/^v16 → v17: cannot review 1 of 2 scenarios: core on two bases/);
  });

  it("names the side the tree's C ran on and the one whose mails would run the other on the tree", () => {
    const { a, b } = sides(fromC(CORE, TEE), undefined);
    const bad = compareVersions(a, b).scenarios.find((s) => s.scenario === "boot-bad-signature");
    expect(bad?.status).toBe("unknown");
    expect(bad?.unknownBecause[0]?.side).toBe("a");
    expect(bad?.unknownBecause[0]?.why).toBe(
      "v16 ran core from C on the kernel tree, v17 from the hand model: a difference may be the base's, not the series' (give v17 as mails to run it on the same tree)",
    );
  });

  it("says why where the model's side was on the tree and fell back", () => {
    const fell: RanFile = {
      file: CORE,
      from: "model",
      why: "fallback (patch-failed)",
      fallback: 'on the tree: 3/7 "core: a hook" did not apply',
    };
    const { a, b } = sides([fell], fromC(CORE, TEE));
    const bad = compareVersions(a, b).scenarios.find((s) => s.scenario === "boot-bad-signature");
    expect(bad?.unknownBecause[0]?.why).toBe(
      "v17 ran core from C on the kernel tree, v16 from the hand model: a difference may be the base's, not the series' (v16 fell back to the model on the tree: 3/7 \"core: a hook\" did not apply)",
    );
  });

  it("judges them when both ran the kernel's files alike, from C or from the model", () => {
    for (const [aRan, bRan] of [
      [fromC(CORE, TEE), fromC(CORE, TEE)],
      // The series' own driver from C on one side only (no tree): the kernel's files are the model's on both.
      [undefined, fromC(TEE)],
    ] as const) {
      const { a, b } = sides(aRan === undefined ? undefined : [...aRan], [...bRan]);
      const diff = compareVersions(a, b);
      const bad = diff.scenarios.find((s) => s.scenario === "boot-bad-signature");
      expect(bad?.status).toBe("different");
      expect(bad?.findings.map((f) => [f.at, f.class])).toEqual([
        ["rproc_tee_register", "carried"],
        ["rproc_mem_entry_init", "introduced"],
      ]);
    }
  });
});
