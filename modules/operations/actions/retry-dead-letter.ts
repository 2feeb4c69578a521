"use server";
import { getDb } from "@/lib/db";
import { getKafkaConfig } from "@/lib/runtime";
import { retryDeadLetter } from "../application/dead-letters";
import { getRepublisher } from "../ops-runtime";
import { runDeadLetterAction, type DeadLetterActionState } from "./dead-letter-action";

export async function retryDeadLetterAction(_prev: DeadLetterActionState, formData: FormData): Promise<DeadLetterActionState> {
  return runDeadLetterAction("RetryDeadLetter", formData, async (id, by) => {
    await retryDeadLetter(
      { db: getDb(), republisher: getRepublisher(), produceTimeoutMs: getKafkaConfig().KAFKA_PRODUCE_TIMEOUT_MS },
      id,
      by,
    );
  });
}
