import { describe, expect, it } from "vitest";
import { compareVersions } from "../../src/compare/index.ts";
import { addedBy, renamesOf } from "../../src/compare/renames.ts";
import type { Finding, TraceStep } from "../../src/scenarios/result.ts";
import type { Series } from "../../src/series/types.ts";
import { cell, facts, series, side, step } from "./fixtures.ts";

/** A series of one patch that adds `lines` to a file of its own. */
function posting(lines: string[]): Series {
  const s = series("v2", [], [[]]);
  const p = s.patches[0];
  if (p === undefined) throw new Error("no patch");
  p.files = [
    {
      oldPath: null,
      newPath: "drivers/fx.c",
      path: "drivers/fx.c",
      status: "added",
      oldMode: null,
      newMode: "100644",
      oldBlob: null,
      newBlob: null,
      additions: lines.length,
      deletions: 0,
      hunks: [
        {
          header: `@@ -0,0 +1,${lines.length} @@`,
          oldStart: 0,
          oldLines: 0,
          newStart: 1,
          newLines: lines.length,
          section: "",
          lines: lines.map((text, i) => ({
            kind: "add",
            text,
            oldLine: null,
            newLine: i + 1,
            noNewline: false,
          })),
        },
      ],
    },
  ];
  return s;
}
const POSTED = posting(["int rproc_tee_attach_dev(struct device *dev)", "{"]);

const run = (register: string, extra: TraceStep[] = []): TraceStep[] => [
  step("core", "rproc_add", "call"),
  step("tee", register, "call"),
  step("core", register, "lock", "spinlock ctx_lock"),
  step("core", register, "might-sleep", `kzalloc with ctx_lock (held by ${register})`),
  step("tee", register, "return", "0"),
  ...extra,
];
const sleep = (fn: string): Finding => ({
  kind: "sleep-in-atomic",
  detail: `kzalloc may sleep while holding spinlock ctx_lock (held by ${fn})`,
  at: fn,
  step: 3,
});

describe("renamed functions", () => {
  it("are read from traces that differ only by the name, and their findings are carried, not fixed and introduced", () => {
    const a = side("v1", facts("v16"), [
      cell("v1", "boot", run("rproc_tee_register"), { findings: [sleep("rproc_tee_register")] }),
    ]);
    const b = side(
      "v2",
      facts("v16"),
      [cell("v2", "boot", run("rproc_tee_attach_dev"), { findings: [sleep("rproc_tee_attach_dev")] })],
      { series: POSTED },
    );
    expect(renamesOf(a.cells, b.cells, addedBy(POSTED))).toEqual([
      { from: "rproc_tee_register", to: "rproc_tee_attach_dev", scenarios: ["boot"] },
    ]);
    const d = compareVersions(a, b);
    expect(d.renames?.map((r) => r.to)).toEqual(["rproc_tee_attach_dev"]);
    // Nothing but the name changed: the scenario behaves the same.
    expect(d.scenarios[0]?.status).toBe("same");
    expect(d.scenarios[0]?.findings.map((f) => [f.class, f.at])).toEqual([
      ["carried", "rproc_tee_attach_dev"],
    ]);
  });

  it("are not read when A's function still runs in B: another function ran in its place", () => {
    const a = side("v1", facts("v16"), [
      cell("v1", "boot", run("rproc_tee_register"), { findings: [sleep("rproc_tee_register")] }),
    ]);
    const b = side(
      "v2",
      facts("v16"),
      [
        cell("v2", "boot", run("rproc_tee_attach_dev", [step("tee", "rproc_tee_register", "call")]), {
          findings: [sleep("rproc_tee_attach_dev")],
        }),
      ],
      { series: POSTED },
    );
    expect(renamesOf(a.cells, b.cells, addedBy(POSTED))).toEqual([]);
    expect(compareVersions(a, b).scenarios[0]?.status).toBe("different");
    expect(
      compareVersions(a, b)
        .scenarios[0]?.findings.map((f) => f.class)
        .sort(),
    ).toEqual(["fixed", "introduced"]);
  });

  it("are not read from traces alone: B's patches must add the new name", () => {
    const a = side("v1", facts("v16"), [cell("v1", "boot", run("rproc_tee_register"))]);
    const b = side("v2", facts("v16"), [cell("v2", "boot", run("rproc_tee_attach_dev"))], {
      series: posting(["static int unrelated(void)"]),
    });
    expect(renamesOf(a.cells, b.cells, addedBy(b.series))).toEqual([]);
    expect(renamesOf(a.cells, b.cells, addedBy(null))).toEqual([]);
    expect(compareVersions(a, b).scenarios[0]?.status).toBe("different");
  });
});
