import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.ts";

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/map/${name}`, import.meta.url));

const run = (args: string[]) => runCli(args);

describe("rproc-review map", () => {
  it("prints the derived facts as JSON with evidence, unmodelled and out-of-scope lists", async () => {
    const r = await run(["map", fixture("tee-series.mbox"), "--json"]);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual([
      "series",
      "version",
      "facts",
      "status",
      "evidence",
      "unmodelled",
      "outOfScope",
    ]);
    expect(json.version).toBe("v2");
    expect((json.facts as { stm32: { teeCompatible: string } }).stm32.teeCompatible).toBe(
      "st,stm32mp1-m4-tee",
    );
    expect((json.outOfScope as { file: string }[]).map((o) => o.file)).toEqual([
      "drivers/remoteproc/Kconfig",
    ]);
  });

  it("prints a readable summary, and says when nothing the model covers is touched", async () => {
    const r = await run(["map", fixture("unrelated.mbox")]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("facts set by the series: 0 of");
    expect(r.out).toContain("drivers/remoteproc/imx_rproc.c (patch 1)");
  });

  it("exits 1 on an input that is not a series", async () => {
    const r = await run(["map", fixture("build.ts")]);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/rproc-review: /);
  });
});

describe("rproc-review review", () => {
  it("runs the matrix for the series and the version compared and lists the scenarios that differ", async () => {
    const r = await run(["review", fixture("tee-series.mbox"), "--against", "mainline", "--json"]);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out) as {
      against: string;
      differences: { scenario: string }[];
      scenarios: number;
    };
    expect(json.against).toBe("mainline");
    expect(json.scenarios).toBeGreaterThan(0);
    expect(json.differences.length).toBeGreaterThan(0);
  });

  it("finds no difference between a series and itself", async () => {
    const r = await run(["review", fixture("unrelated.mbox"), "--against", fixture("unrelated.mbox")]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/: 0 of \d+ scenarios differ/);
  });
});
