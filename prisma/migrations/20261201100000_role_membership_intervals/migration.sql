-- Access review: who held which role when (modules/users/projections/membership-intervals.ts).
-- Filled by the users projection; a read-model rebuild fills it from the log.

-- CreateTable
CREATE TABLE "role_membership_intervals" (
    "grant_event_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "role_id" UUID NOT NULL,
    "role_name" TEXT NOT NULL,
    "from_at" TIMESTAMPTZ(3) NOT NULL,
    "until_at" TIMESTAMPTZ(3),
    "grant_sequence" INTEGER NOT NULL,
    "granted_by_user_id" UUID,
    "granted_by_service" TEXT,
    "revoke_event_id" UUID,
    "revoke_sequence" INTEGER,
    "removed_by_user_id" UUID,
    "removed_by_service" TEXT,
    "end_reason" TEXT,

    CONSTRAINT "role_membership_intervals_pkey" PRIMARY KEY ("grant_event_id")
);

-- CreateIndex
CREATE INDEX "role_membership_intervals_role_id_from_at_grant_event_id_un_idx" ON "role_membership_intervals"("role_id", "from_at", "grant_event_id", "until_at");

-- CreateIndex
CREATE INDEX "role_membership_intervals_role_id_until_at_idx" ON "role_membership_intervals"("role_id", "until_at");

-- CreateIndex
CREATE INDEX "role_membership_intervals_user_id_from_at_idx" ON "role_membership_intervals"("user_id", "from_at");

-- AddForeignKey
ALTER TABLE "role_membership_intervals" ADD CONSTRAINT "role_membership_intervals_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- "What did this actor do?" (the activity feed's `by` filter, the actor links): a user actor's
-- events, newest first. Expression indexes, which schema.prisma cannot declare.
CREATE INDEX "user_events_actor_user_id_occurred_at_idx" ON "user_events"((actor->>'userId'), "occurred_at" DESC) WHERE (actor->>'userId') IS NOT NULL;
CREATE INDEX "role_events_actor_user_id_occurred_at_idx" ON "role_events"((actor->>'userId'), "occurred_at" DESC) WHERE (actor->>'userId') IS NOT NULL;
