/**
 * Behavioural comparison of versions (Workers-safe): per-scenario diff with first divergence and responsible
 * facts, classified findings, and the changelog check.
 */
export { checkChangelog, namesInNote, namesOfDifference, relevantNotes } from "./changelog.ts";
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
} from "./diff.ts";
export { FACT_LABELS } from "./labels.ts";
export type * from "./types.ts";
