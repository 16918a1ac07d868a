/**
 * The mailing-list bot's store on the bot's SQLite file: the SQL of src/mail/sql-store.ts over
 * better-sqlite3. The schema is the shared one (src/bot/schema.ts), applied by SqliteStore, which the
 * service opens first on the same file.
 */
import Database from "better-sqlite3";
import { MIGRATIONS } from "../bot/schema.ts";
import { InputError } from "../errors.ts";
import { SqlMailStore } from "../mail/sql-store.ts";
import { SqliteRunner } from "./sqlite-store.ts";

export class SqliteMailStore extends SqlMailStore {
  private readonly connection: Database.Database;

  /** Opens the bot's database; its migrations must have been applied (open a SqliteStore on it first). */
  constructor(path: string) {
    const db = new Database(path);
    db.pragma("busy_timeout = 5000");
    db.pragma("foreign_keys = ON");
    const latest = Math.max(...MIGRATIONS.map((m) => m.version));
    const migrated = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'schema_migrations'").get();
    const applied = migrated
      ? db.prepare<[], { v: number | null }>("SELECT MAX(version) AS v FROM schema_migrations").get()?.v
      : null;
    if (applied !== latest) {
      db.close();
      throw new InputError(
        `the database is at schema version ${applied ?? "none"}, not ${latest}: open it with SqliteStore first`,
        {
          subject: path,
        },
      );
    }
    super(new SqliteRunner(db));
    this.connection = db;
  }

  close(): void {
    if (this.connection.open) this.connection.close();
  }
}
