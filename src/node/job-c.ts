/**
 * What a Node process sends with a series to a runtime that cannot parse C (Workers): the mapper's facts
 * (`rproc-review map --json`) and, under `c`, the series' C lowered here (src/interp/env/series.ts), so that
 * the Worker runs the same C as the CLI.
 */
import { encodeSeriesC, lowerSeriesC, type SeriesCJson } from "../interp/env/series.ts";
import { mapSeries } from "../semantics/map/index.ts";
import { type MapJson, mapJson } from "../semantics/map/report.ts";
import type { Series } from "../series/types.ts";
import { cParser } from "./c-parser.ts";

export type JobFacts = MapJson & { c: SeriesCJson };

/** The facts of a series with its lowered C, as the job's JSON. */
export async function jobFacts(series: Series): Promise<JobFacts> {
  const parser = await cParser();
  return {
    ...mapJson(series, mapSeries(series, parser)),
    c: encodeSeriesC(series, lowerSeriesC(series, parser)),
  };
}
