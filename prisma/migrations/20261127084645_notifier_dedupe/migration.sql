-- CreateTable
CREATE TABLE "notifications_sent" (
    "consumer" TEXT NOT NULL,
    "event_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "sent_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "notifications_sent_pkey" PRIMARY KEY ("consumer","event_id")
);

-- CreateTable
CREATE TABLE "notifier_users" (
    "consumer" TEXT NOT NULL,
    "user_id" UUID NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "is_deleted" BOOLEAN NOT NULL DEFAULT false,
    "version" INTEGER NOT NULL,

    CONSTRAINT "notifier_users_pkey" PRIMARY KEY ("consumer","user_id")
);

-- CreateTable
CREATE TABLE "notifier_roles" (
    "consumer" TEXT NOT NULL,
    "role_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "version" INTEGER NOT NULL,

    CONSTRAINT "notifier_roles_pkey" PRIMARY KEY ("consumer","role_id")
);
