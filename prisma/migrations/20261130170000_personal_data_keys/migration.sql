-- Crypto-shredding of personal data (issue 12).

-- CreateTable: the key store. Not read model: never rebuilt, never published.
CREATE TABLE "personal_data_keys" (
    "subject_id" UUID NOT NULL,
    "key_id" UUID NOT NULL,
    "wrapped_key" TEXT,
    "kek_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "erased_at" TIMESTAMPTZ(3),

    CONSTRAINT "personal_data_keys_pkey" PRIMARY KEY ("subject_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "personal_data_keys_key_id_key" ON "personal_data_keys"("key_id");

-- CreateTable: read model, the count of applied events carrying personal data in clear.
CREATE TABLE "personal_data_in_clear" (
    "stream" TEXT NOT NULL,
    "events" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "personal_data_in_clear_pkey" PRIMARY KEY ("stream")
);

-- AlterTable: who of an event's people are in clear in the log.
ALTER TABLE "user_events" ADD COLUMN     "clear_subjects" UUID[] DEFAULT ARRAY[]::UUID[];
ALTER TABLE "role_events" ADD COLUMN     "clear_subjects" UUID[] DEFAULT ARRAY[]::UUID[];

-- AlterTable: when a user's personal data was erased (UserErased).
ALTER TABLE "users" ADD COLUMN     "erased_at" TIMESTAMPTZ(3);
