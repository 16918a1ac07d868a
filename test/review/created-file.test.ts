/**
 * A series that creates a C file no model runs (a helper file the STM32 driver's stop now calls): the map
 * names it as created C nothing reads or runs, the matrix's and the review's `ran:` lines name it as not run,
 * and the cells that reach the changed caller are unknown. Fixture series of our own.
 */
import { describe, expect, it } from "vitest";
import { cParser } from "../../src/node/c-parser.ts";
import { mappedSubject } from "../../src/node/versions.ts";
import { builtinSubject, runReview } from "../../src/review/run.ts";
import { describeRan } from "../../src/scenarios/result.ts";
import { runMatrix } from "../../src/scenarios/run.ts";
import { mapSeries } from "../../src/semantics/map/index.ts";
import { builtinVersion } from "../../src/semantics/versions.ts";
import type { FxSeries } from "../fixtures/map/build.ts";
import { seriesOf } from "../map/helpers.ts";

const HELPER = "drivers/remoteproc/stm32_rproc_qos.c";

const fixture: FxSeries = {
  version: 1,
  title: "remoteproc: stm32: drop the bus QoS request on stop",
  cover: "A fixture series for rproc-review: a helper file the STM32 driver calls.",
  patches: [
    {
      title: "remoteproc: stm32: drop the bus QoS request on stop",
      body: "Stop now calls a helper, in a file of its own, that drops the QoS request.",
      files: [
        {
          path: "drivers/remoteproc/stm32_rproc.c",
          hunks: [
            {
              oldStart: 520,
              section: "static int stm32_rproc_stop(struct rproc *rproc)",
              lines: [
                " {",
                "+\tstm32_rproc_qos_drop(rproc);",
                "+",
                " \tstruct stm32_rproc *ddata = rproc->priv;",
              ],
            },
          ],
        },
        {
          path: HELPER,
          added: true,
          hunks: [
            {
              oldStart: 0,
              section: "",
              lines: [
                "+// SPDX-License-Identifier: GPL-2.0",
                "+#include <linux/remoteproc.h>",
                "+",
                "+int stm32_rproc_qos_drop(struct rproc *rproc)",
                "+{",
                '+\tdev_dbg(rproc->dev.parent, "qos dropped\\n");',
                "+\treturn 0;",
                "+}",
              ],
            },
          ],
        },
      ],
    },
  ],
};

describe("a series creating a C file no model runs", () => {
  it("is named by the map as created C that no fact reads and no model runs", async () => {
    const mapped = mapSeries(await seriesOf(fixture), await cParser());
    expect(mapped.outOfScope).toContainEqual({ file: HELPER, patches: [1], created: true });
    expect(mapped.unmodelled.map((u) => u.function)).toContain("stm32_rproc_stop");
  });

  it("is named as not run in the matrix's and the review's ran: lines, and the stop's cells are unknown", async () => {
    const series = await seriesOf(fixture);
    const { design } = await mappedSubject(series, "fixture.mbox");
    expect(design.ran?.find((r) => r.file === HELPER)).toMatchObject({ from: "not run" });
    expect(describeRan(design.ran)).toContain("stm32_rproc_qos.c not run");
    const m = await runMatrix([design], ["boot", "shutdown"]);
    for (const c of m.results) {
      expect(c.unknown).toBe(true);
      expect(c.unknownBecause?.map((u) => u.what)).toContain("stm32_rproc_stop()");
    }
    const mainline = builtinVersion("mainline");
    if (mainline === undefined) throw new Error("no built-in mainline");
    const subject = await mappedSubject(series, "fixture.mbox");
    const { report } = await runReview(builtinSubject(mainline), subject, {
      scenarios: ["boot"],
      exploreDepth: 0,
    });
    expect(describeRan(report.b.ran)).toContain("stm32_rproc_qos.c not run");
    expect(report.verdict.status).toBe("warn");
  });
});

describe("the word on a series' base where the hand model ran its files", () => {
  const review = async (base: string | null) => {
    const series = { ...(await seriesOf(fixture)), base };
    const mainline = builtinVersion("mainline");
    if (mainline === undefined) throw new Error("no built-in mainline");
    const { report } = await runReview(
      builtinSubject(mainline),
      await mappedSubject(series, "fixture.mbox"),
      {
        scenarios: ["boot"],
        exploreDepth: 0,
      },
    );
    return report.notes.filter((n) => n.includes("the hand model's files"));
  };

  it("says the model's files are v6.15's when the series is based elsewhere", async () => {
    expect(await review("42f7652d3eb527d03665b09edac47f85fb600924")).toEqual([
      "v1: based on 42f7652d3eb5, but the hand model's files (core, elf loader, virtio, stm32) are Linux v6.15's",
    ]);
  });

  it("says nothing when the series is based on the model's kernel, or names no base (the reports say so)", async () => {
    expect(await review("0ff41df1cb268fc69e703a08a57ee14ae967d0ca")).toEqual([]);
    expect(await review(null)).toEqual([]);
  });
});
