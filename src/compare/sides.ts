/**
 * Building the sides of a comparison from what the rest of rproc-review produces: a built-in version (the
 * hand-read oracle, with the mapper's evidence when patches/<id>/facts.json holds it) or a mapped series.
 */
import type { CellResult } from "../scenarios/result.ts";
import { type DesignFacts, FACT_PATHS, type FactPath, getFact } from "../semantics/facts.ts";
import type { BuiltinVersion } from "../semantics/versions.ts";
import type { Series } from "../series/types.ts";
import { canonicalJson } from "./diff.ts";
import type { EvidenceItem, EvidenceMap, VersionSide } from "./types.ts";

/** What the mapper yields that a side needs (MapResult of src/semantics/map, or a stored facts.json). */
export interface MappedFacts {
  facts: DesignFacts;
  evidence: Partial<Record<FactPath, readonly EvidenceItem[]>>;
}

/** The cells of one design in a matrix result. */
export function cellsOf(results: readonly CellResult[], designId: string): CellResult[] {
  return results.filter((c) => c.version === designId);
}

/** The mapper's evidence of each fact that has some and that `keep` accepts, copied, in FACT_PATHS order. */
function evidenceOf(mapped: MappedFacts, keep: (path: FactPath) => boolean): EvidenceMap {
  const evidence: EvidenceMap = {};
  for (const path of FACT_PATHS) {
    const items = mapped.evidence[path];
    if (items && items.length > 0 && keep(path)) evidence[path] = [...items];
  }
  return evidence;
}

/**
 * A built-in version. With `mapped` (the mapper's reading of the same mails), evidence is attached to each
 * fact on which the mapper agrees with the oracle; a fact it reads differently keeps no evidence, since the
 * evidence would be for another value.
 */
export function builtinSide(
  v: BuiltinVersion,
  cells: CellResult[],
  opts: { mapped?: MappedFacts | null; series?: Series | null; designId?: string } = {},
): VersionSide {
  const mapped = opts.mapped ?? null;
  const evidence = mapped
    ? evidenceOf(
        mapped,
        (path) => canonicalJson(getFact(mapped.facts, path)) === canonicalJson(getFact(v.facts, path)),
      )
    : {};
  return {
    id: opts.designId ?? v.id,
    title: v.title,
    spec: v.id,
    facts: v.facts,
    cells,
    factSource: mapped ? "oracle-mapped" : "oracle",
    evidence,
    series: opts.series ?? null,
  };
}

/** A version read from a series by the mapper. `spec` is the input as given on the command line. */
export function seriesSide(
  series: Series,
  mapped: MappedFacts,
  cells: CellResult[],
  opts: { spec: string; designId?: string },
): VersionSide {
  const evidence = evidenceOf(mapped, () => true);
  return {
    id: opts.designId ?? series.id,
    title: series.title,
    spec: opts.spec,
    facts: mapped.facts,
    cells,
    factSource: "mapper",
    evidence,
    series,
  };
}
