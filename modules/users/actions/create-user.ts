"use server";

import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { runCommand, type ActionResult, type ActionState } from "@/lib/actions/safe-action";
import { createUser } from "@/modules/users/application/user-commands";

/** Creates a user, then opens their page (`?pending=1` while the projector catches up). */
export async function createUserAction(_prev: ActionState, formData: FormData): Promise<ActionResult> {
  const result = await runCommand("users:write", createUser, formData);
  if (!result.ok) return result;
  revalidatePath("/users");
  // Outside any try/catch: redirect() works by throwing.
  redirect(`/users/${result.aggregateId}${result.projected ? "" : "?pending=1"}`);
}
