/**
 * The D1 migrations folder (migrations/, what `wrangler d1 migrations apply` reads) as generated from the one
 * schema, src/bot/schema.ts. File names stay fixed per version: wrangler remembers applied files by name.
 */
import { MIGRATIONS } from "../bot/schema.ts";

export const MIGRATIONS_DIR = "migrations";

export function d1MigrationFiles(): Array<{ name: string; sql: string }> {
  return MIGRATIONS.map((m) => ({
    name: `${String(m.version).padStart(4, "0")}_schema.sql`,
    sql: `-- Migration ${m.version}: ${m.name}.\n-- Generated from src/bot/schema.ts by \`npm run d1:migrations\`; do not edit.\n${m.sql.trim()}\n`,
  }));
}
