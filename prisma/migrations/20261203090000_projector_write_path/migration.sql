-- Every projector batch asks which of its people are erased (lib/privacy/key-store.ts `ring`).
-- Through the primary key that probed one entry per person of the batch (1.8 ms for 800 people);
-- erased people are few, so a partial index answers in 0.1 ms.
CREATE INDEX "personal_data_keys_erased_subject_idx" ON "personal_data_keys"("subject_id") WHERE "erased_at" IS NOT NULL;

-- The projector rewrites a user's row for every event of theirs (a login changes last_login_at,
-- version and updated_at, none of them indexed). With room left on each page, PostgreSQL keeps
-- the new version on the same page and skips the four secondary indexes (a HOT update).
ALTER TABLE "users" SET (fillfactor = 80);
