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
    // The fixture series creates its TEE driver whole: it runs from C, and its id table names a TA UUID of
    // its own (0x1a2b3c4d-…) that the emulated OP-TEE does not have, so the driver never probes and the STM32
    // driver's register call defers, as a kernel would: no TA command.
    expect(m.versions[1]?.ran?.find((r) => r.file.endsWith("remoteproc_tee.c"))?.from).toBe("C");
    expect(mapped).toMatchObject({ unknown: false, ok: false, errno: -517, tee: [] });
  });

  it("--model-only runs the same series with the hand model's TEE driver: its boot goes through the TA", async () => {
    const r = await runCli([
      "matrix",
      "--model-only",
      "--versions",
      `mainline,${series}`,
      "--scenarios",
      "boot",
      "--json",
    ]);
    expect(r.code).toBe(0);
    const m = JSON.parse(r.out) as MatrixResult;
    expect(m.versions.every((v) => v.ran === undefined)).toBe(true);
    expect(m.results[1]?.tee).toContain("LOAD_FW");
  });

  it("refuses a name that is neither a built-in id nor an input, naming both", async () => {
    const r = await runCli(["matrix", "--versions", "v99"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/v99.*built-in id.*input/);
  });
});
