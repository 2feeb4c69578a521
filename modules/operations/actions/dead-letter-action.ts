/**
 * The shared body of the dead-letter actions (server only): parse the id,
 * run the operation as the current operator, time it into the console's
 * command metrics, refresh the pages, and turn errors into a message the row
 * can show (an unexpected one is logged with an id, never shown raw).
 */
import { randomUUID } from "node:crypto";
import { revalidatePath } from "next/cache";
import { z } from "zod";
import { isDomainError } from "@/lib/errors";
import { getLogger } from "@/lib/log";
import { recordCommand } from "@/lib/metrics/console-metrics";
import { currentOperator } from "../ops-runtime";

export type DeadLetterActionState = { ok: boolean; message: string } | null;

const idSchema = z.string().regex(/^\d{1,18}$/, "not a dead-letter id");

export async function runDeadLetterAction(
  command: string,
  formData: FormData,
  operation: (id: bigint, by: string) => Promise<string>,
): Promise<DeadLetterActionState> {
  const started = process.hrtime.bigint();
  const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
  const parsed = idSchema.safeParse(formData.get("id"));
  if (!parsed.success) {
    recordCommand(command, "validation", seconds());
    return { ok: false, message: "That is not a dead letter this console knows." };
  }
  try {
    const message = await operation(BigInt(parsed.data), currentOperator());
    recordCommand(command, "ok", seconds());
    revalidatePath("/dead-letters");
    revalidatePath("/health");
    return { ok: true, message };
  } catch (error) {
    if (isDomainError(error)) {
      recordCommand(command, error.code, seconds());
      revalidatePath("/dead-letters");
      return { ok: false, message: error.message };
    }
    recordCommand(command, "unexpected", seconds());
    const errorId = randomUUID();
    getLogger().error({ err: error, errorId, command, deadLetterId: parsed.data }, "dead-letter action failed");
    return { ok: false, message: `Something went wrong; nothing may have changed (error id ${errorId}).` };
  }
}
