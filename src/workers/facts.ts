/**
 * Facts derived by a Node process (the mapper's MapResult, as `rproc-review map --json` prints it), checked
 * before a Worker reviews with them: every fact path has a value and a status.
 */
import type { Json } from "../bot/store.ts";
import { InputError } from "../errors.ts";
import type { DesignFacts } from "../semantics/facts.ts";
import { FACT_PATHS, getFact } from "../semantics/facts.ts";
import type { MapResult } from "../semantics/map/types.ts";

const STATUSES = new Set(["set", "baseline", "unknown"]);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

export function factsOf(json: Json): MapResult {
  if (!isObject(json) || !isObject(json.facts) || !isObject(json.status)) {
    throw new InputError(
      'the facts must be the mapper\'s JSON: { "facts": {…}, "status": {…}, "evidence": {…} }',
    );
  }
  const facts = json.facts as unknown as DesignFacts;
  const status = json.status;
  const missing = FACT_PATHS.filter(
    (p) => getFact(facts, p) === undefined || !STATUSES.has(String(status[p])),
  );
  if (missing.length > 0) {
    throw new InputError(`the facts lack a value or status for ${missing.join(", ")}`);
  }
  return {
    facts,
    status: status as MapResult["status"],
    evidence: (isObject(json.evidence) ? json.evidence : {}) as MapResult["evidence"],
    unmodelled: (Array.isArray(json.unmodelled) ? json.unmodelled : []) as unknown as MapResult["unmodelled"],
    outOfScope: (Array.isArray(json.outOfScope) ? json.outOfScope : []) as unknown as MapResult["outOfScope"],
    unmodelledInBase: (Array.isArray(json.unmodelledInBase)
      ? json.unmodelledInBase
      : []) as unknown as MapResult["unmodelledInBase"],
    unknownWhy: (isObject(json.unknownWhy) ? json.unknownWhy : {}) as unknown as MapResult["unknownWhy"],
  };
}
