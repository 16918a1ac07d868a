import { cParser } from "../../src/node/c-parser.ts";
import { FACT_PATHS, type FactPath, getFact } from "../../src/semantics/facts.ts";
import { type MapResult, mapSeries } from "../../src/semantics/map/index.ts";
import { parseMbox, type Series } from "../../src/series/index.ts";
import { type FxSeries, renderMbox } from "../fixtures/map/build.ts";

export async function seriesOf(fx: FxSeries): Promise<Series> {
  const [series] = await parseMbox(new TextEncoder().encode(renderMbox(fx)), "fixture.mbox");
  if (series === undefined) throw new Error("fixture did not parse");
  return series;
}

export async function mapFixture(fx: FxSeries): Promise<MapResult> {
  return mapSeries(await seriesOf(fx), await cParser());
}

/** Fact paths whose values differ between two mappings. */
export function changedFacts(a: MapResult, b: MapResult): FactPath[] {
  return FACT_PATHS.filter(
    (p) => JSON.stringify(getFact(a.facts, p)) !== JSON.stringify(getFact(b.facts, p)),
  );
}
