import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.ts";

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/map/${name}`, import.meta.url));

const run = (args: string[]) => runCli(args);

/** A one-patch follow-up that edits remoteproc_tee.c, which some earlier series created (own text). */
const FOLLOW_UP = `From 1111111111111111111111111111111111111111 Mon Sep 17 00:00:00 2001
From: Rita Reviewer <rita@example.org>
Date: Mon, 23 Nov 2026 10:00:00 +0000
Subject: [PATCH] remoteproc: tee: a mutex for the context lock

Signed-off-by: Rita Reviewer <rita@example.org>
---
 drivers/remoteproc/remoteproc_tee.c | 2 +-
 1 file changed, 1 insertion(+), 1 deletion(-)

diff --git a/drivers/remoteproc/remoteproc_tee.c b/drivers/remoteproc/remoteproc_tee.c
index 1111111..2222222 100644
--- a/drivers/remoteproc/remoteproc_tee.c
+++ b/drivers/remoteproc/remoteproc_tee.c
@@ -40,3 +40,3 @@ int rproc_tee_register(struct device *dev, struct rproc *rproc, unsigned int id)
 \tint ret;
-\tspin_lock(&ctx_lock);
+\tmutex_lock(&ctx_lock);
 \tif (!ctx.dev)
--
2.43.0
`;

describe("rproc-review map", () => {
  it("says why the tee facts of a follow-up to another series are unknown, and how to map them", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rproc-followup-"));
    writeFileSync(join(dir, "0001.patch"), FOLLOW_UP);
    const r = await run(["map", dir]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/tee\.ctxLock = "none" {2}UNKNOWN/);
    expect(r.out.replace(/\n/g, " ")).toContain(
      "why unknown: the series edits drivers/remoteproc/remoteproc_tee.c without creating it, and v6.15 has no such file",
    );
    expect((await run(["map", fixture("tee-series.mbox")])).out).not.toContain("why unknown");
  });

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
      "c",
    ]);
    // the series' C, lowered here, travels with the facts to a runtime that cannot parse it (Workers)
    expect((json.c as { format: string }).format).toBe("rproc-review/series-c");
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
