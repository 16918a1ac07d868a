-- Migration 2: mailing list: received messages, series assembly, list feed positions (replies use the outbox, kind mail).
-- Generated from src/bot/schema.ts by `npm run d1:migrations`; do not edit.
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
