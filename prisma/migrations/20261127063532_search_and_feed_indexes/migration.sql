-- Lower-cased copies of email and name for case-insensitive prefix search and
-- sorting by name. Backfilled here so the migration also runs on a populated
-- read model; the projector writes them from now on. COLLATE "C": a plain btree
-- then serves LIKE 'prefix%' in any database locale.
ALTER TABLE "users" ADD COLUMN "email_lower" TEXT COLLATE "C", ADD COLUMN "name_lower" TEXT COLLATE "C";
UPDATE "users" SET "email_lower" = lower("email"), "name_lower" = lower("name");
ALTER TABLE "users" ALTER COLUMN "email_lower" SET NOT NULL, ALTER COLUMN "name_lower" SET NOT NULL;

-- CreateIndex
CREATE INDEX "role_events_occurred_at_idx" ON "role_events"("occurred_at" DESC);

-- CreateIndex
CREATE INDEX "role_events_type_occurred_at_idx" ON "role_events"("type", "occurred_at" DESC);

-- CreateIndex
CREATE INDEX "user_events_user_id_type_sequence_idx" ON "user_events"("user_id", "type", "sequence" DESC);

-- CreateIndex
CREATE INDEX "user_events_type_occurred_at_idx" ON "user_events"("type", "occurred_at" DESC);

-- CreateIndex
CREATE INDEX "users_email_lower_idx" ON "users"("email_lower");

-- CreateIndex
CREATE INDEX "users_name_lower_id_idx" ON "users"("name_lower", "id");
