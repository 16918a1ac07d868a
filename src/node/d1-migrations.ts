/**
 * Writes migrations/ for wrangler from src/bot/schema.ts (`npm run d1:migrations`); a test checks that
 * the folder is up to date.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { d1MigrationFiles, MIGRATIONS_DIR } from "../workers/migrations.ts";

export function writeD1Migrations(dir: string = MIGRATIONS_DIR): string[] {
  mkdirSync(dir, { recursive: true });
  return d1MigrationFiles().map((f) => {
    const path = join(dir, f.name);
    writeFileSync(path, f.sql);
    return path;
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const path of writeD1Migrations()) process.stdout.write(`${path}\n`);
}
