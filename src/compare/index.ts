/**
 * Behavioural comparison of versions (Workers-safe): per-scenario diff with first divergence and responsible
 * facts, classified findings, and the changelog check.
 */
export { attributeCauses, type CellRunner } from "./attribute.ts";
export { checkChangelog, namesInNote, namesOfDifference, namesOfFact, relevantNotes } from "./changelog.ts";
export {
  type CompareOptions,
  canonicalJson,
  changedFacts,
  classifyFindings,
  compareVersions,
  findingKey,
  firstDivergence,
  responsibleFacts,
  summarizeCell,
  traceHunks,
} from "./diff.ts";
export { FACT_LABELS } from "./labels.ts";
export { builtinSide, cellsOf, type MappedFacts, seriesSide } from "./sides.ts";
export type * from "./types.ts";
