/**
 * Variant designs: a built-in version with some facts changed, so a reviewer can run a design nobody has
 * posted (a counter-proposal) through the same scenarios. The file format is
 *   {"base": "<built-in id>", "title"?: "<text>", "set": {"<fact path>": <value>, ...}}
 * Every path must be a fact of DesignFacts and every value must validate; anything else is a UsageError
 * naming the field.
 */
import { UsageError } from "../errors.ts";
import { applyFactChanges, linkProblem } from "./facts.ts";
import { BUILTIN_VERSIONS, type BuiltinVersion, builtinVersion } from "./versions.ts";

const KEYS = new Set(["base", "title", "set"]);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Builds the design a variant file describes. `json` is the parsed file, `name` its id in results (e.g.
 * the file's base name); `subject` names the file in error messages.
 */
export function loadVariant(json: unknown, name: string, subject = name): BuiltinVersion {
  const fail = (message: string): never => {
    throw new UsageError(message, { subject });
  };
  if (!isRecord(json)) return fail('a variant is a JSON object {"base": "<id>", "set": {...}}');
  for (const key of Object.keys(json)) {
    if (!KEYS.has(key)) fail(`unknown key "${key}" (known: base, title, set)`);
  }
  const { base, title, set } = json;
  if (typeof base !== "string") return fail('"base" must be the id of a built-in version');
  const baseVersion = builtinVersion(base);
  if (baseVersion === undefined) {
    return fail(`unknown base "${base}" (built-in: ${BUILTIN_VERSIONS.map((v) => v.id).join(", ")})`);
  }
  if (title !== undefined && typeof title !== "string") fail('"title" must be a string');
  if (!isRecord(set)) return fail('"set" must be an object of fact paths to values');
  if (builtinVersion(name) !== undefined) fail(`the variant's id "${name}" is a built-in version id`);
  const { facts, errors } = applyFactChanges(baseVersion.facts, set);
  if (errors.length > 0) fail(`invalid variant: ${errors.join("; ")}`);
  const problem = linkProblem(facts);
  if (problem !== null) fail(`invalid variant: ${problem}`);
  const changed = Object.keys(set);
  return {
    id: name,
    title:
      typeof title === "string"
        ? title
        : `${base} with ${changed.length === 0 ? "no change" : changed.join(", ")} changed (variant)`,
    facts,
  };
}

/** Parses the text of a variant file (JSON) and builds its design; a JSON syntax error is a UsageError. */
export function parseVariant(text: string, name: string, subject = name): BuiltinVersion {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`not JSON: ${e instanceof Error ? e.message : String(e)}`, { subject, cause: e });
  }
  return loadVariant(json, name, subject);
}
