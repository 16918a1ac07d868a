import { describe, expect, it } from "vitest";
import { InputError } from "../../src/errors.ts";
import { runScenario } from "../../src/scenarios/run.ts";
import { applyFactChanges } from "../../src/semantics/facts.ts";
import { builtinVersion } from "../../src/semantics/versions.ts";

const v16 = builtinVersion("v16");
const v14 = builtinVersion("v14");

describe.skipIf(v16 === undefined || v14 === undefined)("STM32 TEE compatible driven by facts", () => {
  it("builds the TEE ops table from stm32.teeOps by C name; an unknown name is an input error naming it", async () => {
    const base = v16!;
    const ops = { ...(base.facts.stm32.teeOps ?? {}), start: "no_such_function" };
    const { facts, errors } = applyFactChanges(base.facts, { "stm32.teeOps": ops });
    expect(errors).toEqual([]);
    const run = runScenario({ id: "bad-ops", title: "bad ops", facts }, "boot");
    await expect(run).rejects.toThrow(InputError);
    await expect(runScenario({ id: "bad-ops", title: "bad ops", facts }, "boot")).rejects.toThrow(
      /no_such_function/,
    );
  });

  it("v16 boots with LOAD in parse_fw and again from ops->load, and releases once at shutdown", async () => {
    const c = await runScenario(v16!, "shutdown");
    expect(c.tee).toEqual([
      "LOAD_FW",
      "GET_RSC_TABLE",
      "LOAD_FW",
      "GET_RSC_TABLE",
      "START_FW",
      "STOP_FW",
      "RELEASE_FW",
    ]);
    expect(c.finalState).toBe("offline");
  });

  it("v14 leaks the firmware buffer when load_fw fails (return-early) and the same design with unwind does not", async () => {
    const leaking = await runScenario(v14!, "boot-bad-signature");
    expect(leaking.errno).toBe(-5);
    expect(leaking.findings.some((f) => f.kind === "leak" && f.detail.startsWith("firmware"))).toBe(true);
    const calls = v14!.facts.core.loadFwCalls.map((c) => ({ ...c, onError: "unwind" as const }));
    const { facts } = applyFactChanges(v14!.facts, { "core.loadFwCalls": calls });
    const fixed = await runScenario(
      { id: "v14-unwind", title: "v14 unwinding", facts },
      "boot-bad-signature",
    );
    expect(fixed.errno).toBe(-5);
    expect(fixed.findings.some((f) => f.kind === "leak" && f.detail.startsWith("firmware"))).toBe(false);
    expect(fixed.factsRead).toContain("core.loadFwCalls");
  });
});
