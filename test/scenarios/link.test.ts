import { describe, expect, it } from "vitest";
import { runScenario } from "../../src/scenarios/run.ts";
import { builtinVersion } from "../../src/semantics/versions.ts";

describe("a design that would not link", () => {
  it("runs no cell and says why, instead of failing inside the model", async () => {
    const v16 = builtinVersion("v16");
    if (v16 === undefined) throw new Error("v16 is a built-in version");
    const facts = structuredClone(v16.facts);
    facts.core.paToVa = false;
    const cell = await runScenario({ id: "no-pa-to-va", title: "v16 without rproc_pa_to_va", facts }, "boot");
    expect(cell.applicable).toBe(false);
    expect(cell.reason).toMatch(/would not link.*rproc_pa_to_va/);
    expect(cell.factsRead).toContain("core.paToVa");
  });

  it("is unknown when the mapper could not read core.paToVa", async () => {
    const v16 = builtinVersion("v16");
    if (v16 === undefined) throw new Error("v16 is a built-in version");
    const facts = structuredClone(v16.facts);
    facts.core.paToVa = false;
    const cell = await runScenario(
      { id: "follow-up", title: "a fix on top of v16", facts, unknownFacts: ["core.paToVa"] },
      "boot",
    );
    expect(cell.unknown).toBe(true);
  });
});
