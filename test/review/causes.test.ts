import { describe, expect, it } from "vitest";
import { compareVersions } from "../../src/compare/index.ts";
import { rootCauses } from "../../src/review/causes.ts";
import { cell, facts, side, step } from "../compare/fixtures.ts";

describe("root cause lines", () => {
  const trace = [step("core", "rproc_boot", "call")];
  const a = side("v1", facts("v16"), [cell("v1", "restart", trace)]);
  const b = side("v2", facts("v16"), [
    cell("v2", "restart", trace, {
      findings: [
        {
          kind: "state-mismatch",
          detail: "after stop: rproc is offline but the TA is STARTED",
          at: "stop",
          step: 0,
        },
        {
          kind: "state-mismatch",
          detail: "after firmware alt: rproc is offline but the coprocessor is running",
          at: "firmware alt",
          step: 0,
        },
        { kind: "leak", detail: "mem allocated in rproc_tee_parse_fw", at: "rproc_tee_parse_fw", step: 0 },
      ],
    }),
  ]);
  const causes = rootCauses(compareVersions(a, b), a, b);

  it("names a state monitor's operations as operations, not as C functions", () => {
    const line = causes.find((c) => c.kind === "state-mismatch")?.line;
    expect(line).toBe("introduced: state-mismatch after stop, firmware alt");
  });

  it("names a C function with its parentheses", () => {
    expect(causes.find((c) => c.kind === "leak")?.line).toBe("introduced: leak in rproc_tee_parse_fw()");
  });

  it("points a cause with no posted line at the posted statement where the traces first part", () => {
    const at = { file: "drivers/remoteproc/remoteproc_tee.c", line: 423 };
    const b2 = side("v2", facts("v16"), [
      cell(
        "v2",
        "restart",
        [trace[0] as (typeof trace)[number], step("tee", "rproc_tee_stop", "return", "0")],
        {
          findings: [{ kind: "state-mismatch", detail: "after stop: rproc is offline", at: "stop", step: 1 }],
          sites: [{ step: 1, ...at }],
        },
      ),
    ]);
    const d = compareVersions(a, b2);
    expect(d.scenarios[0]?.divergence?.bAt).toEqual(at);
    const c = rootCauses(d, a, b2).find((x) => x.kind === "state-mismatch");
    expect(c?.divergedAt).toEqual({ scenario: "restart", ...at });
    expect(c?.line).toBe(
      "introduced: state-mismatch after stop; the traces first part at drivers/remoteproc/remoteproc_tee.c:423 (restart)",
    );
    // A cause raised at a posted statement is named there, not at the divergence.
    expect(causes.find((x) => x.kind === "leak")?.divergedAt).toBeNull();
  });
});
