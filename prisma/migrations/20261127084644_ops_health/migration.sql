-- AlterTable
ALTER TABLE "dead_letters" ADD COLUMN     "headers" JSONB,
ADD COLUMN     "resolved_at" TIMESTAMPTZ(3),
ADD COLUMN     "resolved_by" TEXT,
ADD COLUMN     "retried_offset" BIGINT,
ADD COLUMN     "retried_partition" INTEGER,
ADD COLUMN     "status" TEXT NOT NULL DEFAULT 'open';

-- AlterTable
ALTER TABLE "projection_offsets" ADD COLUMN     "last_event_at" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "projector_instances" (
    "instance_id" TEXT NOT NULL,
    "consumer_group" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "pid" INTEGER NOT NULL,
    "metrics_port" INTEGER,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "last_heartbeat_at" TIMESTAMPTZ(3) NOT NULL,
    "stopped_at" TIMESTAMPTZ(3),
    "member_id" TEXT,
    "assignment" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "projector_instances_pkey" PRIMARY KEY ("instance_id")
);

-- CreateIndex
CREATE INDEX "projector_instances_consumer_group_last_heartbeat_at_idx" ON "projector_instances"("consumer_group", "last_heartbeat_at" DESC);

-- CreateIndex
CREATE INDEX "dead_letters_status_id_idx" ON "dead_letters"("status", "id" DESC);
