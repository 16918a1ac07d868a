import { describe, expect, it } from "vitest";
import { DesignFactsSchema, FACT_PATHS, type FactPath, getFact } from "../../src/semantics/facts.ts";
import { BUILTIN_VERSIONS, builtinVersion } from "../../src/semantics/versions.ts";

function facts(id: string) {
  const v = builtinVersion(id);
  if (v === undefined) throw new Error(`no built-in ${id}`);
  return v.facts;
}

function differing(a: string, b: string): FactPath[] {
  return FACT_PATHS.filter(
    (p) => JSON.stringify(getFact(facts(a), p)) !== JSON.stringify(getFact(facts(b), p)),
  );
}

describe("built-in versions", () => {
  it("lists mainline and every posted version once, oldest first", () => {
    expect(BUILTIN_VERSIONS.map((v) => v.id)).toEqual(["mainline", "v13", "v14", "v15", "v16", "v16-resend"]);
  });

  it("every built-in value validates against the DesignFacts schema", () => {
    for (const v of BUILTIN_VERSIONS) {
      const parsed = DesignFactsSchema.safeParse(v.facts);
      expect(parsed.success, `${v.id}: ${parsed.success ? "" : parsed.error.message}`).toBe(true);
    }
  });

  it("v15 has v14's facts and the RESEND has v16's (their diffs differ only in a build fix / index lines)", () => {
    expect(differing("v14", "v15")).toEqual([]);
    expect(differing("v16", "v16-resend")).toEqual([]);
  });

  it("v16 differs from v13 in the core call sites and the TEE driver's lifetime design only", () => {
    expect(differing("v13", "v16").sort()).toEqual(
      [
        "core.releaseFwCalls",
        "tee.presenceChecks",
        "tee.ctxStorage",
        "tee.ctxLock",
        "tee.lockedCalls",
        "tee.entryAlloc",
        "tee.entryLookup",
        "tee.deviceLink",
        "tee.moduleGet",
        "tee.removeClosesSessions",
        "tee.removeFreesEntries",
      ].sort(),
    );
  });

  it("v14 moves the load out of parse_fw into a load_fw op and renames load", () => {
    const d = differing("v13", "v14");
    for (const p of [
      "tee.parseFwLoads",
      "core.loadFwOp",
      "core.loadFwCalls",
      "core.loadSegmentsOp",
      "core.loadSegmentsWhenMissing",
      "core.elfDefaultsUnless",
      "core.allocOpsRejectsBothLoaders",
      "stm32.teeOps",
    ] as const)
      expect(d).toContain(p);
    expect(d.some((p) => p.startsWith("tee.ctx"))).toBe(false);
  });

  it("every version's TEE ops table names the loader member its core calls", () => {
    for (const v of BUILTIN_VERSIONS.filter((x) => x.facts.tee !== null)) {
      const ops = v.facts.stm32.teeOps ?? {};
      const member = v.facts.core.loadFwOp ? "load_fw" : v.facts.core.loadSegmentsOp;
      expect(ops[member], v.id).toBe("rproc_tee_load_fw");
    }
  });
});
