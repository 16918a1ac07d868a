import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import type { MapResult } from "../../src/semantics/map/index.ts";
import { editFile, type FxSeries, renderMbox, teeSeries } from "../fixtures/map/build.ts";
import { changedFacts, mapFixture } from "./helpers.ts";

const FILES = [
  "drivers/remoteproc/remoteproc_tee.c",
  "drivers/remoteproc/remoteproc_core.c",
  "drivers/remoteproc/stm32_rproc.c",
];

/** Inserts an added comment line before every added line whose position is in `at` (per file, modulo). */
function withComments(at: number[]): FxSeries {
  let fx = teeSeries();
  for (const path of FILES) {
    fx = editFile(fx, path, (lines) =>
      lines.flatMap((l, i) =>
        l.startsWith("+") && at.some((a) => a % lines.length === i) ? ["+\t/* reviewer note */", l] : [l],
      ),
    );
  }
  return fx;
}

let base: MapResult;
beforeAll(async () => {
  base = await mapFixture(teeSeries());
});

describe("comment lines added anywhere", () => {
  it("change no fact, no status and nothing unmodelled", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(400), { minLength: 1, maxLength: 12 }), async (at) => {
        const fx = withComments(at);
        expect(renderMbox(fx)).not.toBe(renderMbox(teeSeries()));
        const edited = await mapFixture(fx);
        expect(changedFacts(base, edited)).toEqual([]);
        expect(edited.status).toEqual(base.status);
        expect(edited.unmodelled.map((u) => u.summary)).toEqual(base.unmodelled.map((u) => u.summary));
      }),
      { numRuns: 25 },
    );
  });
});
