import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UsageError } from "../../src/errors.ts";
import { getFact } from "../../src/semantics/facts.ts";
import { loadVariant, parseVariant } from "../../src/semantics/variant.ts";
import { builtinVersion } from "../../src/semantics/versions.ts";

const EXAMPLES = join(import.meta.dirname, "../../examples/variants");

function usageMessage(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as UsageError).oneLine();
  }
  throw new Error("no error thrown");
}

describe("variant files", () => {
  it("every example variant loads and changes exactly the facts it sets", () => {
    const files = readdirSync(EXAMPLES).filter((f) => f.endsWith(".json"));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const json = JSON.parse(readFileSync(join(EXAMPLES, file), "utf8")) as {
        base: string;
        set: Record<string, unknown>;
      };
      const v = loadVariant(json, file.replace(/\.json$/, ""));
      const base = builtinVersion(json.base);
      expect(base, file).toBeDefined();
      for (const [path, value] of Object.entries(json.set)) {
        expect(getFact(v.facts, path as never), `${file} ${path}`).toEqual(value);
        expect(getFact(v.facts, path as never), `${file} ${path} differs from its base`).not.toEqual(
          getFact(base?.facts ?? v.facts, path as never),
        );
      }
    }
  });

  it("names an unknown base and lists the built-in ids", () => {
    expect(usageMessage(() => loadVariant({ base: "v17", set: {} }, "x"))).toMatch(
      /unknown base "v17".*v16-resend/,
    );
  });

  it("names an unknown fact", () => {
    expect(usageMessage(() => loadVariant({ base: "v16", set: { "tee.spinlock": true } }, "x"))).toMatch(
      /unknown fact "tee.spinlock"/,
    );
  });

  it("names a field whose value has the wrong type or is not one of its values", () => {
    expect(usageMessage(() => loadVariant({ base: "v16", set: { "tee.deviceLink": "yes" } }, "x"))).toMatch(
      /tee\.deviceLink/,
    );
    expect(usageMessage(() => loadVariant({ base: "v16", set: { "tee.ctxLock": "rwlock" } }, "x"))).toMatch(
      /tee\.ctxLock/,
    );
    expect(
      usageMessage(() =>
        loadVariant({ base: "v16", set: { "core.releaseFwCalls": ["rproc_stop:somewhere"] } }, "x"),
      ),
    ).toMatch(/core\.releaseFwCalls/);
  });

  it("refuses tee.* changes on a design without a TEE driver, unknown keys, bad JSON and built-in ids", () => {
    expect(
      usageMessage(() => loadVariant({ base: "mainline", set: { "tee.deviceLink": true } }, "x")),
    ).toMatch(/no TEE driver/);
    expect(usageMessage(() => loadVariant({ base: "v16", sets: {} }, "x"))).toMatch(/unknown key "sets"/);
    expect(usageMessage(() => loadVariant({ base: "v16", set: { "core.paToVa": false } }, "x"))).toMatch(
      /core\.paToVa/,
    );
    expect(usageMessage(() => parseVariant("{", "x", "x.json"))).toMatch(/^x\.json: not JSON/);
    expect(usageMessage(() => loadVariant({ base: "v16", set: {} }, "v13"))).toMatch(/built-in/);
  });

  it("gives the variant its own id and a title naming the changed facts", () => {
    const v = loadVariant({ base: "v16", set: { "tee.ctxLock": "mutex" } }, "v16-mutex");
    expect(v.id).toBe("v16-mutex");
    expect(v.title).toMatch(/v16 with tee\.ctxLock changed/);
    expect(v.facts.tee?.ctxLock).toBe("mutex");
    expect(builtinVersion("v16")?.facts.tee?.ctxLock).toBe("spinlock");
  });
});
