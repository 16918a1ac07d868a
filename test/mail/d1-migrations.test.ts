import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { d1MigrationFiles, MIGRATIONS_DIR } from "../../src/workers/migrations.ts";

describe("migrations/ for wrangler", () => {
  it("is what src/bot/schema.ts generates (npm run d1:migrations)", () => {
    const files = d1MigrationFiles();
    expect(readdirSync(MIGRATIONS_DIR).sort()).toEqual(files.map((f) => f.name).sort());
    for (const f of files) expect(readFileSync(`${MIGRATIONS_DIR}/${f.name}`, "utf8")).toBe(f.sql);
  });
});

describe("the Worker's bundled facts of built-in versions", () => {
  it("lists every patches/<id>/facts.json, with the evidence the Node side reads", async () => {
    const { BUNDLED_BUILTIN_FACTS, bundledMapping } = await import("../../src/workers/builtin-facts.ts");
    const { storedMapping } = await import("../../src/node/versions.ts");
    const stored = readdirSync("patches").filter((id) => existsSync(`patches/${id}/facts.json`));
    expect([...BUNDLED_BUILTIN_FACTS].sort()).toEqual(stored.sort());
    for (const id of stored) expect(await bundledMapping(id)).toEqual(await storedMapping(id));
  });
});
