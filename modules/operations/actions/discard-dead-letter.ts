"use server";
import { getDb } from "@/lib/db";
import { discardDeadLetter } from "../application/dead-letters";
import { deadLetterAction } from "./dead-letter-action";

export const discardDeadLetterAction = deadLetterAction("DiscardDeadLetter", (id, by) => discardDeadLetter(getDb(), id, by));
