-- Migration 1: queue, deliveries, series and review results, posted comments and check runs, outbox.
-- Generated from src/bot/schema.ts by `npm run d1:migrations`; do not edit.
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
