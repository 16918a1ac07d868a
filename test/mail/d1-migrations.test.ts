import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { d1MigrationFiles, MIGRATIONS_DIR } from "../../src/workers/migrations.ts";

describe("migrations/ for wrangler", () => {
  it("is what src/bot/schema.ts generates (npm run d1:migrations)", () => {
    const files = d1MigrationFiles();
    expect(readdirSync(MIGRATIONS_DIR).sort()).toEqual(files.map((f) => f.name).sort());
    for (const f of files) expect(readFileSync(`${MIGRATIONS_DIR}/${f.name}`, "utf8")).toBe(f.sql);
  });
});
