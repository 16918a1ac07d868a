-- Migration 3: mailing list: a series whose review waits for facts derived on Node.
-- Generated from src/bot/schema.ts by `npm run d1:migrations`; do not edit.
ALTER TABLE mail_series ADD COLUMN awaiting_facts INTEGER NOT NULL DEFAULT 0;
