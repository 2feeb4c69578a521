-- Consumers that fail are never shown alive, and dead letters never block a partition
-- (issue 10). Not read model: none of these is rebuilt.

-- AlterTable: what a consumer instance (projector or notifier) is doing. A heartbeat is
-- written only while the consumer loop proves it runs; a crashed consumer says so here.
ALTER TABLE "projector_instances" ADD COLUMN     "consumer_state" TEXT NOT NULL DEFAULT 'running',
ADD COLUMN     "last_error" TEXT,
ADD COLUMN     "last_error_at" TIMESTAMPTZ(3),
ADD COLUMN     "restarts" INTEGER NOT NULL DEFAULT 0;

-- AlterTable: dead_letters is the outbox of the DLQ topics. The row is committed with the
-- partition's position; a relay copies it to <topic>.dlq afterwards, in bounded requests.
ALTER TABLE "dead_letters" ADD COLUMN     "dlq_published_at" TIMESTAMPTZ(3),
ADD COLUMN     "dlq_attempts" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "dlq_last_error" TEXT,
ADD COLUMN     "dlq_next_attempt_at" TIMESTAMPTZ(3);

-- Rows written before the outbox were published to the DLQ topic before their commit.
UPDATE "dead_letters" SET "dlq_published_at" = "created_at";

-- CreateIndex
CREATE INDEX "dead_letters_dlq_published_at_id_idx" ON "dead_letters"("dlq_published_at", "id");

-- CreateTable: the last failure of a consumer group on a partition, kept until the partition
-- moves past it, so the health page can say why a partition is stalled.
CREATE TABLE "consumer_partition_errors" (
    "consumer_group" TEXT NOT NULL,
    "topic" TEXT NOT NULL,
    "partition" INTEGER NOT NULL,
    "offset" BIGINT,
    "error" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 1,
    "first_failed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_failed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "consumer_partition_errors_pkey" PRIMARY KEY ("consumer_group","topic","partition")
);
