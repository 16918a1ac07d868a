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
});
