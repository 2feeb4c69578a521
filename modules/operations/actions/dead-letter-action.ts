/**
 * The shared body of the dead-letter actions (server only): check the session
 * and `ops:manage`, parse the id, run the operation as the signed-in operator, time it into the console's
 * command metrics, refresh the pages, and turn errors into a message the row
 * can show (an unexpected one is logged with an id, never shown raw). On
 * success it redirects to the list with `handled=<id>`: the row leaves the
 * "open" list, so the page itself says what was done.
 */
import { randomUUID } from "node:crypto";
import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { z } from "zod";
import { requireUser } from "@/lib/auth/guard";
import { isDomainError } from "@/lib/errors";
import { getLogger } from "@/lib/log";
import { recordCommand } from "@/lib/metrics/console-metrics";
import { deadLettersHref, parseDeadLetterFilters } from "../read/dead-letters";

/** What a failed action says (a successful one redirects). */
export type DeadLetterActionState = { code: string; message: string } | null;

const idSchema = z.string().regex(/^\d{1,18}$/, "not a dead-letter id");

export async function runDeadLetterAction(
  command: string,
  formData: FormData,
  operation: (id: bigint, by: string) => Promise<void>,
): Promise<DeadLetterActionState> {
  const started = process.hrtime.bigint();
  const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
  // Who acts, checked before any input is read; recorded as `resolved_by`.
  let operator: string;
  try {
    operator = (await requireUser("ops:manage")).email;
  } catch (error) {
    const code = isDomainError(error) ? error.code : "unexpected";
    recordCommand(command, code, seconds());
    return { code, message: isDomainError(error) ? error.message : "Could not check your session." };
  }
  const parsed = idSchema.safeParse(formData.get("id"));
  if (!parsed.success) {
    recordCommand(command, "validation", seconds());
    return { code: "validation", message: "That is not a dead letter this console knows." };
  }
  try {
    await operation(BigInt(parsed.data), operator);
    recordCommand(command, "ok", seconds());
    revalidatePath("/dead-letters");
    revalidatePath("/health");
  } catch (error) {
    if (isDomainError(error)) {
      recordCommand(command, error.code, seconds());
      revalidatePath("/dead-letters");
      return { code: error.code, message: error.message };
    }
    recordCommand(command, "unexpected", seconds());
    const errorId = randomUUID();
    getLogger().error({ err: error, errorId, command, deadLetterId: parsed.data }, "dead-letter action failed");
    return { code: "unexpected", message: `Something went wrong; nothing may have changed (error id ${errorId}).` };
  }
  // Outside the try: redirect() throws to do its work.
  const { status } = parseDeadLetterFilters({ status: String(formData.get("status") ?? "open") });
  redirect(`${deadLettersHref(status)}&handled=${parsed.data}`);
}
