-- Migration 6: reports: the full report of each review, served at GET /reports/<id>.
-- Generated from src/bot/schema.ts by `npm run d1:migrations`; do not edit.
CREATE TABLE reports (
  id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  json TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
