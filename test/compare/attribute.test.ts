import { describe, expect, it } from "vitest";
import { attributeCauses, type CellRunner, compareVersions } from "../../src/compare/index.ts";
import { cell, facts, side, step } from "./fixtures.ts";
import { SCENARIOS, v15Side, v16Side } from "./scenarios.ts";

describe("attributeCauses", () => {
  it("keeps the facts whose revert moves B's run, drops the inert ones, keeps the unrunnable as untested", async () => {
    const a = v15Side();
    const b = v16Side();
    const diff = compareVersions(a, b, { scenarios: SCENARIOS });
    const runs: string[] = [];
    // A model where only the context lock matters in bind-unbind, and a reverted device link cannot run.
    const run: CellRunner = async (facts, scenario) => {
      runs.push(scenario);
      if (facts.tee?.deviceLink === false) throw new Error("inconsistent design");
      const original = b.cells.find((c) => c.scenario === scenario);
      if (!original) throw new Error("fixture");
      return facts.tee?.ctxLock === "none"
        ? cell("v16", scenario, [step("tee", "rproc_tee_register", "call")])
        : structuredClone(original);
    };
    const attributed = await attributeCauses(diff, b, run);
    const s = attributed.scenarios.find((x) => x.scenario === "bind-unbind");
    expect(s?.facts.map((f) => [f.path, f.effect])).toEqual([
      ["tee.ctxLock", "changes-behaviour"],
      ["tee.deviceLink", "untested"],
    ]);
    expect(s?.inertFacts).toEqual(["tee.lockedCalls", "tee.removeFreesEntries"]);
    expect(attributed.attributed).toBe(true);
    // same scenarios are not re-run
    expect(runs).not.toContain("boot");
    // tee.removeFreesEntries is read by A's cell only: B never read it, so setting it back cannot move B's
    // run, and it is inert without a run (ctxLock, deviceLink and lockedCalls ran)
    expect(runs.filter((x) => x === "bind-unbind")).toHaveLength(3);
  });

  it("marks a revert the fact schema refuses as untested without running it", async () => {
    const a = v15Side();
    // B has no TEE driver: "tee" cannot be set back to true, nor tee.ctxLock set on it
    const b = side("mainline", facts("mainline"), [
      cell("mainline", "bind-unbind", [step("core", "rproc_boot", "call")], {
        factsRead: ["tee", "tee.ctxLock"],
      }),
    ]);
    const runs: string[] = [];
    const run: CellRunner = async (_facts, scenario) => {
      runs.push(scenario);
      return cell("mainline", scenario, []);
    };
    const diff = compareVersions(a, b, { scenarios: SCENARIOS });
    const s = (await attributeCauses(diff, b, run)).scenarios.find((x) => x.scenario === "bind-unbind");
    expect(s?.facts.map((f) => [f.path, f.effect])).toEqual([
      ["tee", "untested"],
      ["tee.ctxLock", "untested"],
      // read by A's cell: responsible too, and just as impossible to set on a design without a TEE driver
      ["tee.deviceLink", "untested"],
      ["tee.removeFreesEntries", "untested"],
    ]);
    expect(runs).toEqual([]);
  });
});
