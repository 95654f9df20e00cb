-- Written by hand above the generated index (drizzle-kit does not create extensions): pg_trgm, for the
-- trigram index of the folder search. PostgreSQL ships it in contrib and trusts it (PostgreSQL 13+: a
-- database owner may create it); PGlite offers it because store/db.ts opens PGlite with it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;--> statement-breakpoint
CREATE INDEX "folder_messages_search_idx" ON "folder_messages" USING gin ("sender" gin_trgm_ops,"subject" gin_trgm_ops);
