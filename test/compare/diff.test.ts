import { describe, expect, it } from "vitest";
import {
  changedFacts,
  checkChangelog,
  classifyFindings,
  compareVersions,
  firstDivergence,
  namesInNote,
  traceHunks,
} from "../../src/compare/index.ts";
import { cell, note, series, step } from "./fixtures.ts";
import { mainlineSide, SCENARIOS, V16_NOTES, v15Side, v16Side } from "./scenarios.ts";

const diff = () => compareVersions(v15Side(), v16Side(), { mainline: mainlineSide(), scenarios: SCENARIOS });
const scenario = (id: string) => {
  const s = diff().scenarios.find((x) => x.scenario === id);
  if (!s) throw new Error(`no ${id}`);
  return s;
};

describe("compareVersions", () => {
  it("tells same from different, per scenario, in the given order", () => {
    const d = diff();
    expect(d.scenarios.map((s) => [s.scenario, s.status])).toEqual([
      ["boot", "same"],
      ["boot-auth-fail", "different"],
      ["bind-unbind", "different"],
      ["start-error", "same"],
      ["remove", "different"],
    ]);
    expect(d.counts).toMatchObject({ same: 2, different: 3, unknown: 0, missing: 0 });
    expect(scenario("boot-auth-fail").changed).toEqual(["tee", "findings", "trace"]);
  });

  it("gives the first divergence with both steps and the state before it", () => {
    const d = scenario("boot-auth-fail").divergence;
    expect(d?.step).toBe(2);
    expect(d?.a).toEqual(step("core", "rproc_load_fw", "call"));
    expect(d?.b).toEqual(step("core", "rproc_fw_boot", "call"));
    expect(d?.before.rprocState).toBe("offline");
    expect(d?.before.commonSteps).toBe(2);
    expect(d?.before.context.map((s) => s.fn)).toEqual(["rproc_boot", "rproc_boot"]);
  });

  it("counts TA commands before the divergence and handles a trace that is a prefix of the other", () => {
    const a = [step("ta", "LOAD_FW", "invoke"), step("ta", "START_FW", "invoke")];
    const d = firstDivergence(a, [...a, step("core", "rproc_boot", "return", "0")]);
    expect(d).toMatchObject({ step: 2, a: null, b: { fn: "rproc_boot" } });
    expect(d?.before.taCommands).toEqual(["LOAD_FW", "START_FW"]);
    expect(firstDivergence(a, [...a])).toBeNull();
  });

  it("aligns the traces and lists every place where they part", () => {
    const common = (n: number) => step("core", `f${n}`, "call");
    const a = [
      common(0),
      step("core", "rproc_load_fw", "call"),
      common(1),
      common(2),
      step("ta", "RELEASE_FW", "invoke"),
    ];
    const b = [common(0), common(1), step("ta", "LOAD_FW", "invoke"), common(2)];
    expect(
      traceHunks(a, b).map((h) => [
        h.aStart,
        h.aEnd,
        h.bStart,
        h.bEnd,
        h.a.map((s) => s.fn),
        h.b.map((s) => s.fn),
      ]),
    ).toEqual([
      [1, 2, 1, 1, ["rproc_load_fw"], []],
      [3, 3, 2, 3, [], ["LOAD_FW"]],
      [4, 5, 4, 4, ["RELEASE_FW"], []],
    ]);
    expect(traceHunks(a, a)).toEqual([]);
    expect(scenario("boot-auth-fail").hunks[0]).toMatchObject({ aStart: 2, bStart: 2 });
  });

  it("blames only facts that differ and that a diverging cell read, with their evidence", () => {
    const facts = scenario("boot-auth-fail").facts;
    expect(facts.map((f) => f.path).sort()).toEqual([
      "core.loadFwCalls",
      "core.releaseFwCalls",
      "tee.parseFwLoads",
    ]);
    const release = facts.find((f) => f.path === "core.releaseFwCalls");
    expect(release?.evidenceB[0]).toMatchObject({ patch: 3, function: "rproc_boot", line: 1850 });
    expect(release?.evidenceA).toEqual([]);
    expect(facts.find((f) => f.path === "core.loadFwCalls")?.readBy).toEqual(["a", "b"]);
    // paToVa was read by both but is the same in v15 and v16
    expect(facts.some((f) => f.path === "core.paToVa")).toBe(false);
    expect(scenario("remove").facts).toEqual([]);
  });

  it("classifies findings: introduced, fixed, carried (in both, not in mainline), pre-existing (in mainline)", () => {
    const by = (id: string) => scenario(id).findings.map((f) => [f.kind, f.at, f.class]);
    expect(by("boot-auth-fail")).toEqual([["leak", "rproc_boot", "fixed"]]);
    expect(by("bind-unbind")).toEqual([
      ["sleep-in-atomic", "rproc_tee_register", "introduced"],
      ["use-after-free", "rproc_tee_stop", "fixed"],
    ]);
    // A and B raise it, mainline does not: still open in B, never "pre-existing".
    expect(by("start-error")).toEqual([["error-swallowed", "rproc_tee_start", "carried"]]);
    const remove = scenario("remove").findings[0];
    expect(remove).toMatchObject({ class: "pre-existing", inA: false, inB: true, inMainline: true });
    expect(diff().counts).toMatchObject({ introduced: 1, fixed: 2, carried: 1, preExisting: 1 });
    for (const f of diff().scenarios.flatMap((x) => x.findings))
      if (f.class === "pre-existing") expect(f.inMainline).toBe(true);
  });

  it("treats findings with the same scenario, kind and at as the same even when details differ", () => {
    const a = v15Side();
    const b = v16Side();
    const target = b.cells.find((c) => c.scenario === "start-error");
    if (!target) throw new Error("fixture");
    target.findings = [{ kind: "error-swallowed", at: "rproc_tee_start", detail: "other words", step: 3 }];
    const s = compareVersions(a, b).scenarios.find((x) => x.scenario === "start-error");
    expect(s?.findings.map((f) => f.class)).toEqual(["carried"]);
  });

  it("marks cells that read an unknown fact as unknown and classifies nothing in them (unknown never fixes)", () => {
    const b = v16Side();
    for (const c of b.cells)
      if (c.scenario === "bind-unbind") {
        c.unknown = true;
        c.unknownBecause = [
          { what: "tee.ctxLock", files: ["drivers/remoteproc/remoteproc_tee.c"], why: "unread" },
        ];
      }
    const d = compareVersions(v15Side(), b, { scenarios: SCENARIOS });
    const s = d.scenarios.find((x) => x.scenario === "bind-unbind");
    expect(s?.status).toBe("unknown");
    // A's use-after-free is not "fixed" by a run that did not happen, nor is B's finding "introduced".
    expect(s?.findings).toEqual([]);
    expect(s?.unknownBecause).toEqual([
      { side: "b", what: "tee.ctxLock", files: ["drivers/remoteproc/remoteproc_tee.c"], why: "unread" },
    ]);
    expect(d.counts.unknown).toBe(1);
  });

  it("classifies nothing when A's cell is the unknown one", () => {
    const a = v15Side();
    for (const c of a.cells) if (c.scenario === "bind-unbind") c.unknown = true;
    const s = compareVersions(a, v16Side()).scenarios.find((x) => x.scenario === "bind-unbind");
    expect(s?.status).toBe("unknown");
    expect(s?.findings).toEqual([]);
  });

  it("reports a scenario run on one side only as missing", () => {
    const b = v16Side();
    b.cells.push(cell("v16", "extra", [step("core", "rproc_boot", "call")]));
    const d = compareVersions(v15Side(), b);
    expect(d.scenarios.find((s) => s.scenario === "extra")).toMatchObject({ status: "missing", a: null });
  });

  it("lists every fact change, whether a scenario read it or not", () => {
    const paths = changedFacts(v15Side(), v16Side()).map((f) => f.path);
    expect(paths).toContain("tee.deviceLink");
    expect(paths).toContain("core.loadFwOp");
    expect(paths).not.toContain("tee.invokeErrorResult");
  });
});

describe("changelog check", () => {
  const check = (notes = V16_NOTES) => {
    const b = v16Side(series("v16", notes.cover, notes.patches));
    const a = v15Side();
    return checkChangelog(compareVersions(a, b, { mainline: mainlineSide(), scenarios: SCENARIOS }), a, b);
  };

  it("matches notes to differences through labels, functions and evidence", () => {
    const c = check();
    const matched = c.withDifference.map((n) => [n.note.text, n.matches.map((m) => m.scenario)]);
    expect(matched).toEqual([
      ["Dropped the load_fw() operation of the previous version.", ["boot-auth-fail"]],
      ["Added a spinlock to protect the global context.", ["bind-unbind"]],
      ["Call rproc_release_fw() from rproc_boot on error.", ["boot-auth-fail"]],
    ]);
    expect(c.withDifference[1]?.matches[0]?.via).toEqual(["spinlock"]);
    expect(c.withDifference[2]?.where).toBe("patch 3/3: widget: part 3");
  });

  it("reports stated changes with no visible difference and differences no note mentions", () => {
    const c = check();
    expect(c.withoutDifference.map((n) => n.note.text)).toEqual(["Reworded the Kconfig help text."]);
    expect(c.unmentioned).toEqual(["remove"]);
  });

  it("ignores notes about versions older than A", () => {
    const texts = [...check().withDifference, ...check().withoutDifference].map((n) => n.note.text);
    expect(texts).not.toContain("Renamed the widget ops (an old change).");
  });

  it("attributes each note to the version it names: notes of older versions, or already in A's mails, are set aside", () => {
    const rework = note("Rework probe: of_platform_populate() probes the children.", {
      heading: "Version 15 updates:",
      refersTo: "v15",
      relation: "in",
    });
    const resent = note("Added a spinlock to protect the global context.", { refersTo: null });
    const a = { ...v15Side(), series: series("v15", [rework, resent]) };
    const b = v16Side(
      series("v16", [
        note("Dropped the load_fw() operation.", {
          heading: "Version 16 updates:",
          refersTo: "v16",
          relation: "in",
        }),
        // carried over unchanged: under their old headings, or under one that names no version
        rework,
        note("Renamed the widget ops.", { heading: "Updates vs version [14]:", refersTo: "v14" }),
        resent,
      ]),
    );
    const c = checkChangelog(compareVersions(a, b), a, b);
    const texts = [...c.withDifference, ...c.withoutDifference].map((n) => n.note.text);
    expect(texts).toEqual(["Dropped the load_fw() operation."]);
    expect(c.source).toContain("3 older notes set aside");
    // The spinlock difference is not explained by a note v15 already had.
    expect(c.unmentioned).toContain("bind-unbind");
  });

  it("says so when B has no series", () => {
    const a = v15Side();
    const b = v16Side();
    const c = checkChangelog(compareVersions(a, b), a, b);
    expect(c.available).toBe(false);
    expect(c.source).toMatch(/no series/);
    expect(c.unmentioned).toEqual(["boot-auth-fail", "bind-unbind", "remove"]);
  });

  it("does not check the changelog of a version older than A", () => {
    const a = v16Side(series("v16", V16_NOTES.cover));
    const b = {
      ...v15Side(),
      series: series("v15", [note("Dropped the load_fw() operation.", { refersTo: "v14" })]),
    };
    const c = checkChangelog(compareVersions(a, b), a, b);
    expect(c.available).toBe(false);
    expect(c.source).toBe(
      "v15 is older than v16: its changelog describes earlier changes, not this comparison",
    );
  });

  it("matches whole identifiers only", () => {
    expect(namesInNote("rework rproc_tee_parse_fw()", ["parse_fw", "rproc_tee_parse_fw"])).toEqual([
      "rproc_tee_parse_fw",
    ]);
    expect(namesInNote("the rproc_ops:load_fw() op", ["load_fw"])).toEqual(["load_fw"]);
    expect(namesInNote("a spinlocked path", ["spinlock"])).toEqual([]);
    expect(note("x").source).toBe("cover");
  });
});

describe("classifyFindings", () => {
  const leak = { kind: "leak", at: "rproc_tee_parse_fw", detail: "fw buffer", step: 3 } as const;
  const a = cell("A", "tee-start-fails", [step("tee", "rproc_tee_start", "call")], {
    findings: [{ ...leak }],
  });

  it("calls a finding of A that B's run of the scenario no longer raises fixed", () => {
    const b = cell("B", "tee-start-fails", [step("tee", "rproc_tee_start", "call")]);
    expect(classifyFindings("tee-start-fails", a, b, undefined).map((f) => f.class)).toEqual(["fixed"]);
  });

  it("classes nothing when the scenario does not apply to B: n/a ran nothing, so it fixed nothing", () => {
    const b = cell("B", "tee-start-fails", [], { applicable: false, ok: false, finalState: "absent" });
    expect(classifyFindings("tee-start-fails", a, b, undefined)).toEqual([]);
    // nor the other way: a scenario new to B does not "introduce" what A never ran
    expect(classifyFindings("tee-start-fails", b, a, undefined)).toEqual([]);
  });
});
