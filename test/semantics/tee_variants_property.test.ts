/**
 * Any combination of the TEE driver's facts is a design the model can run: a variant never makes a scenario
 * throw (a defect of the design is a finding, not an exception), and the cell is consistent.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadFixtures } from "../../src/emulator/api.ts";
import { runScenario } from "../../src/scenarios/run.ts";
import { applyFactChanges, TeeFn, TeeLockFn } from "../../src/semantics/facts.ts";
import { builtinVersion } from "../../src/semantics/versions.ts";

const LOCKABLE = [
  "kzalloc",
  "tee_client_open_session",
  "device_link_add",
  "list_add_tail",
  "tee_client_close_session",
  "list_del",
  "kfree",
  "tee_client_close_context",
  "INIT_LIST_HEAD",
];

const teeChanges = fc.record({
  "tee.parseFwLoads": fc.boolean(),
  "tee.parseFwReleasesOnError": fc.boolean(),
  "tee.zeroSizeTable": fc.constantFrom("map-fails", "no-table"),
  "tee.releaseSkipsDetached": fc.boolean(),
  "tee.releaseOnlyWhenOffline": fc.boolean(),
  "tee.presenceChecks": fc.subarray([...TeeFn.options]),
  "tee.ctxStorage": fc.constantFrom("devm", "static"),
  "tee.ctxLock": fc.constantFrom("none", "spinlock", "mutex"),
  "tee.lockedCalls": fc.record(
    Object.fromEntries(TeeLockFn.options.map((fn) => [fn, fc.subarray(LOCKABLE)])) as Record<
      TeeLockFn,
      fc.Arbitrary<string[]>
    >,
  ),
  "tee.entryAlloc": fc.constantFrom("devm-rproc-dev", "kzalloc"),
  "tee.entryLookup": fc.constantFrom("rproc-field", "list-walk"),
  "tee.deviceLink": fc.boolean(),
  "tee.moduleGet": fc.boolean(),
  "tee.removeClosesSessions": fc.boolean(),
  "tee.removeFreesEntries": fc.boolean(),
  "tee.rscTableBits": fc.constantFrom("low32", "full64"),
});

describe("TEE fact combinations", () => {
  it("run every TEE scenario without throwing, into a consistent cell", async () => {
    const fixtures = await loadFixtures();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("v13", "v14", "v16"),
        teeChanges,
        fc.constantFrom(
          "boot",
          "tee-unbind-while-running",
          "tee-start-fails",
          "boot-no-resource-table",
          "crash-recovery",
        ),
        async (baseId, set, scenario) => {
          const base = builtinVersion(baseId);
          if (base === undefined) throw new Error(`no ${baseId}`);
          const { facts, errors } = applyFactChanges(base.facts, set);
          expect(errors).toEqual([]);
          const c = await runScenario({ id: "variant", title: "variant", facts }, scenario, fixtures);
          expect(c.applicable).toBe(true);
          expect(c.ok).toBe(c.errno === 0);
          for (const f of c.findings) expect(f.step).toBeLessThan(c.trace.length);
        },
      ),
      { numRuns: 60, seed: 20251123 },
    );
  });
});
