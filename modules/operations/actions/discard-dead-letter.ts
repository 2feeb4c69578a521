"use server";
import { getDb } from "@/lib/db";
import { discardDeadLetter } from "../application/dead-letters";
import { runDeadLetterAction, type DeadLetterActionState } from "./dead-letter-action";

export async function discardDeadLetterAction(_prev: DeadLetterActionState, formData: FormData): Promise<DeadLetterActionState> {
  return runDeadLetterAction("DiscardDeadLetter", formData, (id, by) => discardDeadLetter(getDb(), id, by));
}
