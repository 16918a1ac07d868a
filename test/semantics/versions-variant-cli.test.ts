/** `rproc-review matrix --variant <file.json>` through the CLI entry point: validation and a changed fact at work. */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { MatrixResult } from "../../src/scenarios/result.ts";
import { runCli } from "../helpers/cli.ts";

const EXAMPLES = join(import.meta.dirname, "../../examples/variants");

const run = (args: string[]) => runCli(args);

describe("matrix --variant", () => {
  it("runs the variant next to its base, and the changed fact changes the cell", async () => {
    const { code, out } = await run([
      "matrix",
      "--json",
      "--versions",
      "v16",
      "--scenarios",
      "tee-start-fails",
      "--variant",
      join(EXAMPLES, "v16-start-propagates.json"),
    ]);
    expect(code).toBe(0);
    const m = JSON.parse(out) as MatrixResult;
    expect(m.versions.map((v) => v.id)).toEqual(["v16", "v16-start-propagates"]);
    const [base, variant] = m.results;
    expect(base?.ok).toBe(true);
    expect(base?.findings.some((f) => f.kind === "error-swallowed")).toBe(true);
    expect(variant?.ok).toBe(false);
    expect(variant?.errno).toBe(-5);
    expect(variant?.findings.some((f) => f.kind === "error-swallowed")).toBe(false);
  });

  it("exits 3 (bad input) naming the field of an invalid variant, and the file that does not exist", async () => {
    const bad = await run(["matrix", "--variant", join(import.meta.dirname, "no-such-variant.json")]);
    expect(bad.code).toBe(3);
    expect(bad.err).toMatch(/no-such-variant\.json: no such file or directory \(--variant\)/);
    const invalid = await run(["matrix", "--variant", join(EXAMPLES, "..", "..", "package.json")]);
    expect(invalid.code).toBe(3);
    expect(invalid.err).toMatch(/package\.json: unknown key "name"/);
  });
});
