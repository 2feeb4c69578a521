"use server";

import { headers } from "next/headers";
import { revalidatePath } from "next/cache";
import { runCommand, type ActionResult } from "@/lib/actions/safe-action";
import { recordLogin } from "@/modules/users/application/user-commands";

/**
 * Records that `userId` signed in, with the caller's IP and user agent taken
 * from the request (never from the client's say-so). Console sign-in will call
 * this; other services publish UserLoggedIn to the `users` topic directly.
 */
export async function recordLoginAction(userId: string): Promise<ActionResult> {
  const h = await headers();
  const ip = h.get("x-forwarded-for")?.split(",")[0]?.trim() || h.get("x-real-ip") || null;
  const result = await runCommand(recordLogin, { userId, ip, userAgent: h.get("user-agent") });
  if (result.ok) revalidatePath(`/users/${result.aggregateId}`);
  return result;
}
