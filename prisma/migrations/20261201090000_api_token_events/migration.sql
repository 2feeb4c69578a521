-- CreateTable
CREATE TABLE "api_token_events" (
    "event_id" UUID NOT NULL,
    "api_token_id" UUID NOT NULL,
    "sequence" INTEGER NOT NULL,
    "type" TEXT NOT NULL,
    "schema_version" INTEGER NOT NULL,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "actor" JSONB NOT NULL,
    "correlation_id" TEXT NOT NULL,
    "causation_id" TEXT,
    "payload" JSONB NOT NULL,
    "changes" JSONB,
    "topic" TEXT NOT NULL,
    "partition" INTEGER NOT NULL,
    "offset" BIGINT NOT NULL,

    CONSTRAINT "api_token_events_pkey" PRIMARY KEY ("event_id")
);

-- CreateIndex
CREATE INDEX "api_token_events_api_token_id_sequence_idx" ON "api_token_events"("api_token_id", "sequence" DESC);

-- CreateIndex
CREATE INDEX "api_token_events_occurred_at_idx" ON "api_token_events"("occurred_at" DESC);

-- CreateIndex
CREATE INDEX "api_token_events_type_occurred_at_idx" ON "api_token_events"("type", "occurred_at" DESC);

-- Who of an event's people are in clear in the log (lib/privacy), as on the other timelines.
ALTER TABLE "api_token_events" ADD COLUMN     "clear_subjects" UUID[] DEFAULT ARRAY[]::UUID[];
