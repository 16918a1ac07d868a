/**
 * The bot's database schema as numbered migrations. Plain SQLite SQL that Cloudflare D1 accepts as it is:
 * the Node adapter (src/node/sqlite-store.ts) applies them with better-sqlite3, a D1 adapter will apply the
 * same list. Migrations are append-only: never edit one that has shipped, add the next number.
 *
 * Times are milliseconds since the epoch (INTEGER); JSON documents are TEXT.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "queue, deliveries, series and review results, posted comments and check runs, outbox",
    sql: `
CREATE TABLE deliveries (
  id TEXT PRIMARY KEY,
  event TEXT NOT NULL,
  action TEXT,
  repo TEXT,
  received_at INTEGER NOT NULL,
  job_id INTEGER
);

CREATE TABLE jobs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  idempotency_key TEXT NOT NULL UNIQUE,
  payload TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL,
  run_after INTEGER NOT NULL,
  lease_until INTEGER,
  lease_token TEXT,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX jobs_ready ON jobs (status, run_after);

CREATE TABLE series (
  key TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE versions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  series_key TEXT NOT NULL REFERENCES series (key),
  head_sha TEXT NOT NULL,
  label TEXT NOT NULL,
  series_json TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (series_key, head_sha)
);

CREATE TABLE patches (
  version_id INTEGER NOT NULL REFERENCES versions (id),
  idx INTEGER NOT NULL,
  title TEXT NOT NULL,
  patch_id TEXT NOT NULL,
  PRIMARY KEY (version_id, idx)
);

CREATE TABLE facts (
  version_id INTEGER PRIMARY KEY REFERENCES versions (id),
  facts_json TEXT NOT NULL,
  evidence_json TEXT
);

CREATE TABLE runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  version_id INTEGER NOT NULL REFERENCES versions (id),
  job_id INTEGER NOT NULL REFERENCES jobs (id),
  against TEXT,
  scenarios TEXT,
  conclusion TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (job_id)
);

CREATE TABLE results (
  run_id INTEGER NOT NULL REFERENCES runs (id),
  version TEXT NOT NULL,
  scenario TEXT NOT NULL,
  result_json TEXT NOT NULL,
  PRIMARY KEY (run_id, version, scenario)
);

CREATE TABLE posted_comments (
  repo TEXT NOT NULL,
  issue_number INTEGER NOT NULL,
  marker TEXT NOT NULL,
  comment_id INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (repo, issue_number, marker)
);

CREATE TABLE check_runs (
  repo TEXT NOT NULL,
  head_sha TEXT NOT NULL,
  name TEXT NOT NULL,
  check_run_id INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (repo, head_sha, name)
);

CREATE TABLE outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id INTEGER NOT NULL REFERENCES jobs (id),
  seq INTEGER NOT NULL,
  kind TEXT NOT NULL,
  body TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent')),
  github_id INTEGER,
  sent_at INTEGER,
  UNIQUE (job_id, seq)
);
`,
  },
  {
    version: 2,
    name: "mailing list: received messages, series assembly, list feed positions (replies use the outbox, kind mail)",
    sql: `
CREATE TABLE mail_messages (
  message_id TEXT PRIMARY KEY,
  series_key TEXT,
  idx INTEGER,
  total INTEGER,
  version_label TEXT,
  subject TEXT NOT NULL,
  raw TEXT NOT NULL,
  received_at INTEGER NOT NULL
);
CREATE INDEX mail_messages_series ON mail_messages (series_key, idx);

CREATE TABLE mail_series (
  key TEXT PRIMARY KEY,
  list TEXT,
  label TEXT NOT NULL,
  title TEXT NOT NULL,
  total INTEGER NOT NULL,
  first_seen INTEGER NOT NULL,
  status TEXT NOT NULL DEFAULT 'assembling' CHECK (status IN ('assembling', 'assembled', 'abandoned')),
  incomplete INTEGER NOT NULL DEFAULT 0,
  assembled_at INTEGER,
  job_id INTEGER,
  facts_json TEXT
);
CREATE INDEX mail_series_waiting ON mail_series (status, first_seen);

CREATE TABLE mail_feed_seen (
  list TEXT NOT NULL,
  entry_id TEXT NOT NULL,
  seen_at INTEGER NOT NULL,
  PRIMARY KEY (list, entry_id)
);

`,
  },
  {
    version: 3,
    name: "mailing list: a series whose review waits for facts derived on Node",
    sql: `
ALTER TABLE mail_series ADD COLUMN awaiting_facts INTEGER NOT NULL DEFAULT 0;
`,
  },
  {
    version: 4,
    name: "queue lanes (the jobs of one pull request run one at a time) and suspects (a job that was running when its worker died runs alone)",
    sql: `
ALTER TABLE jobs ADD COLUMN lane TEXT;
ALTER TABLE jobs ADD COLUMN suspect INTEGER NOT NULL DEFAULT 0;
CREATE INDEX jobs_lane ON jobs (lane, status);
`,
  },
  {
    version: 5,
    name: "mail delivery attempts: a mail whose SMTP transaction began and whose outcome is unknown is in doubt",
    sql: `
ALTER TABLE outbox ADD COLUMN send_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN in_doubt_since INTEGER;
`,
  },
  {
    version: 6,
    name: "reports: the full report of each review, served at GET /reports/<id>",
    sql: `
CREATE TABLE reports (
  id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  json TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
`,
  },
];
