-- Migration 5: mail delivery attempts: a mail whose SMTP transaction began and whose outcome is unknown is in doubt.
-- Generated from src/bot/schema.ts by `npm run d1:migrations`; do not edit.
ALTER TABLE outbox ADD COLUMN send_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN in_doubt_since INTEGER;
