import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { MatrixResult } from "../../src/scenarios/result.ts";
import { runCli } from "../helpers/cli.ts";

const series = fileURLToPath(new URL("../fixtures/map/tee-series.mbox", import.meta.url));

describe("matrix --versions with inputs", () => {
  it("runs a series read from an mbox next to a built-in version", async () => {
    const r = await runCli(["matrix", "--versions", `mainline,${series}`, "--scenarios", "boot", "--json"]);
    expect(r.code).toBe(0);
    const m = JSON.parse(r.out) as MatrixResult;
    expect(m.versions.map((v) => v.id)).toHaveLength(2);
    const [mainline, mapped] = m.results;
    expect(mainline?.tee).toEqual([]);
    // the fixture series adds a TEE driver: its boot goes through the TA
    expect(mapped?.tee).toContain("LOAD_FW");
  });

  it("refuses a name that is neither a built-in id nor an input, naming both", async () => {
    const r = await runCli(["matrix", "--versions", "v99"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/v99.*built-in id.*input/);
  });
});
