/** The verdict rules of the review room (src/review/verdict.ts), on hand-made diffs. */
import { describe, expect, it } from "vitest";
import type { ExploreDiff } from "../../src/compare/explore.ts";
import type {
  ChangelogCheck,
  ClassifiedFinding,
  ScenarioDiff,
  VersionDiff,
} from "../../src/compare/types.ts";
import { failOnOutcome, verdictOf } from "../../src/review/index.ts";

const NO_CHANGELOG: ChangelogCheck = {
  available: false,
  source: "none",
  withDifference: [],
  withoutDifference: [],
  unmentioned: [],
  unmentionedFacts: [],
};

function finding(cls: ClassifiedFinding["class"]): ClassifiedFinding {
  return {
    scenario: "boot",
    kind: "leak",
    at: "rproc_boot",
    detail: "x",
    class: cls,
    inA: cls !== "introduced",
    inB: cls !== "fixed",
    inMainline: cls === "pre-existing",
    stepA: null,
    stepB: null,
  };
}

function scenario(
  id: string,
  status: ScenarioDiff["status"],
  findings: ClassifiedFinding[] = [],
): ScenarioDiff {
  return {
    scenario: id,
    title: id,
    status,
    unknownBecause:
      status === "unknown"
        ? [
            {
              side: "b",
              what: "tee.ctxLock",
              files: ["drivers/remoteproc/remoteproc_tee.c"],
              why: "unread lock",
            },
          ]
        : [],
    a: null,
    b: null,
    changed: [],
    divergence: null,
    hunks: [],
    facts: [],
    findings,
  };
}

function diff(scenarios: ScenarioDiff[]): VersionDiff {
  const all = scenarios.flatMap((s) => s.findings);
  const n = (c: ClassifiedFinding["class"]) => all.filter((f) => f.class === c).length;
  const count = (st: ScenarioDiff["status"]) => scenarios.filter((s) => s.status === st).length;
  const ref = (id: string) => ({ id, title: id, spec: id, factSource: "oracle" as const });
  return {
    a: ref("A"),
    b: ref("B"),
    mainline: ref("mainline"),
    scenarios,
    factChanges: [],
    counts: {
      same: count("same"),
      different: count("different"),
      unknown: count("unknown"),
      missing: count("missing"),
      introduced: n("introduced"),
      fixed: n("fixed"),
      carried: n("carried"),
      preExisting: n("pre-existing"),
    },
  };
}

const explored = (over: Partial<ExploreDiff>): ExploreDiff => ({
  depth: 3,
  a: { id: "A", states: 1, transitions: 1, findings: 0 },
  b: { id: "B", states: 1, transitions: 1, findings: 0 },
  introduced: [],
  fixed: [],
  carried: [],
  kept: 0,
  unknownFacts: [],
  unknown: null,
  ...over,
});
const ref = {
  kind: "leak" as const,
  at: "f",
  detail: "d",
  events: [],
  replay: "r",
  mainline: "absent" as const,
};

describe("verdictOf", () => {
  it("passes when nothing differs and nothing is open", () => {
    expect(verdictOf(diff([scenario("boot", "same")]), NO_CHANGELOG).status).toBe("pass");
  });
  it("fails on an introduced finding", () => {
    expect(
      verdictOf(diff([scenario("boot", "different", [finding("introduced")])]), NO_CHANGELOG).status,
    ).toBe("fail");
  });
  it("fails on a carried finding, even when nothing differs", () => {
    const v = verdictOf(diff([scenario("boot", "same", [finding("carried")])]), NO_CHANGELOG);
    expect(v.status).toBe("fail");
    expect(v.line).toContain("1 carried");
  });
  it("passes with only fixed and pre-existing findings", () => {
    const d = diff([scenario("boot", "different", [finding("fixed"), finding("pre-existing")])]);
    expect(verdictOf(d, NO_CHANGELOG).status).toBe("pass");
  });
  it("never passes when some scenarios could not be reviewed, and says so first", () => {
    const v = verdictOf(diff([scenario("boot", "unknown"), scenario("shutdown", "same")]), NO_CHANGELOG);
    expect(v.status).toBe("warn");
    expect(v.cannotReview?.scenarios).toEqual(["boot"]);
    expect(v.line).toMatch(
      /^A → B: cannot review 1 of 2 scenarios: tee\.ctxLock \(drivers\/remoteproc\/remoteproc_tee\.c\), because unread lock/,
    );
    // What differs is counted out of what it could review, not out of every scenario.
    expect(v.line).toContain(", 0 of 1 reviewed scenario behave differently, ");
  });
  it("fails when what ran shows a bug, even if other scenarios are unknown", () => {
    const d = diff([scenario("boot", "unknown"), scenario("shutdown", "different", [finding("introduced")])]);
    expect(verdictOf(d, NO_CHANGELOG).status).toBe("fail");
  });
  it("counts the exploration's introduced and carried findings, unless mainline has them or it is unknown", () => {
    const d = diff([scenario("boot", "same")]);
    expect(verdictOf(d, NO_CHANGELOG, explored({ carried: [ref] })).status).toBe("fail");
    expect(
      verdictOf(d, NO_CHANGELOG, explored({ introduced: [{ ...ref, mainline: "present" }] })).status,
    ).toBe("pass");
    const unjudged = verdictOf(
      d,
      NO_CHANGELOG,
      explored({ introduced: [ref], unknown: "it ran unread facts" }),
    );
    expect(unjudged.status).toBe("pass");
    expect(unjudged.line).toContain("not judged");
  });
});

describe("failOnOutcome", () => {
  it("names findings of the classes given, else says it cannot say when scenarios are unknown", () => {
    const d = diff([scenario("boot", "same", [finding("carried")]), scenario("x", "unknown")]);
    expect(failOnOutcome(d, ["introduced"])).toBe("cannot-say");
    expect(failOnOutcome(d, ["introduced", "carried"])).toBe("findings");
    expect(failOnOutcome(diff([scenario("boot", "same")]), ["introduced"])).toBe("clean");
  });
});
