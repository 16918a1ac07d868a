-- Migration 4: queue lanes (the jobs of one pull request run one at a time) and suspects (a job that was running when its worker died runs alone).
-- Generated from src/bot/schema.ts by `npm run d1:migrations`; do not edit.
ALTER TABLE jobs ADD COLUMN lane TEXT;
ALTER TABLE jobs ADD COLUMN suspect INTEGER NOT NULL DEFAULT 0;
CREATE INDEX jobs_lane ON jobs (lane, status);
