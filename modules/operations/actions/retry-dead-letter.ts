"use server";
import { getDb } from "@/lib/db";
import { getKafkaConfig } from "@/lib/runtime";
import { retryDeadLetter } from "../application/dead-letters";
import { getRepublisher } from "../ops-runtime";
import { deadLetterAction } from "./dead-letter-action";

export const retryDeadLetterAction = deadLetterAction("RetryDeadLetter", (id, by) =>
  retryDeadLetter({ db: getDb(), republisher: getRepublisher(), produceTimeoutMs: getKafkaConfig().KAFKA_PRODUCE_TIMEOUT_MS }, id, by),
);
