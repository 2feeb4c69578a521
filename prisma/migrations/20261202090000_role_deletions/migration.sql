-- Deleting a role held by many users (issue 15), on the command side.

-- A role's deletion in progress (modules/users/application/role-deletion.ts): while a row has no
-- finished_at, the role takes no new member (assignRole refuses it under the role's share lock),
-- and its members lose the role in batches; `done` counts them, in each batch's own transaction.
-- Kept after the end (finished_at) so the role's page can say how it went.

-- CreateTable
CREATE TABLE "role_deletions" (
    "role_id" UUID NOT NULL,
    "correlation_id" TEXT NOT NULL,
    "total" INTEGER NOT NULL DEFAULT 0,
    "done" INTEGER NOT NULL DEFAULT 0,
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),
    "error" TEXT,

    CONSTRAINT "role_deletions_pkey" PRIMARY KEY ("role_id")
);

-- A role's members, from the command side's head rows (`state->'roles' ? role id`): the key of
-- every role a user holds is an entry of this index, so finding 100k members of a role among 1M
-- users is an index scan, not a scan of every head's JSON. It is an index on the heads themselves,
-- so it cannot drift from them (commands, the projector's head repair, erasure all write heads).
-- fastupdate off: each head write updates the index itself, rather than a pending list that the
-- write which overflows it must merge (a stall of that command, and commands care about their tail).
-- An expression index, which schema.prisma cannot declare.
CREATE INDEX "streams_state_roles_idx" ON "streams" USING gin ((state->'roles')) WITH (fastupdate = off);
