-- CreateTable
CREATE TABLE "read_model_rebuilds" (
    "id" BIGSERIAL NOT NULL,
    "consumer_group" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "phase" TEXT,
    "requested_by" TEXT NOT NULL,
    "requested_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "accept_differences" BOOLEAN NOT NULL DEFAULT false,
    "cancel_requested" BOOLEAN NOT NULL DEFAULT false,
    "runner" TEXT,
    "started_at" TIMESTAMPTZ(3),
    "heartbeat_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "events_done" BIGINT NOT NULL DEFAULT 0,
    "events_total" BIGINT NOT NULL DEFAULT 0,
    "events_per_second" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "checksums" JSONB,
    "message" TEXT,

    CONSTRAINT "read_model_rebuilds_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "read_model_rebuilds_consumer_group_id_idx" ON "read_model_rebuilds"("consumer_group", "id" DESC);
