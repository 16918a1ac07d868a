/** MODEL_STEPS is the set of names the hand model's sources give Kernel.call. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MODEL_STEPS } from "../../src/semantics/steps.ts";

const DIR = join(import.meta.dirname, "..", "..", "src", "semantics");
const sources = readdirSync(DIR)
  .filter((f) => f.endsWith(".ts") && f !== "steps.ts")
  .map((f) => readFileSync(join(DIR, f), "utf8"));

describe("the model's own steps (MODEL_STEPS)", () => {
  it("holds every name the sources pass to Kernel.call as a literal", () => {
    const named = new Set(
      sources.flatMap((t) => [...t.matchAll(/\.call\(\s*"[a-z0-9]+",\s*"(\w+)"/g)].map((m) => m[1])),
    );
    expect(named.size).toBeGreaterThan(50);
    expect([...named].filter((n) => n !== undefined && !MODEL_STEPS.has(n))).toEqual([]);
  });

  it("names only functions the sources name (a name passed through a variable is a string literal there)", () => {
    const all = sources.join("\n");
    expect([...MODEL_STEPS].filter((n) => !all.includes(`"${n}"`))).toEqual([]);
  });
});
