"use server";

import { revalidatePath } from "next/cache";
import { runCommand, type ActionResult, type ActionState } from "@/lib/actions/safe-action";
import { updateUser } from "@/modules/users/application/user-commands";

/** Saves a user's email/name; `expectedVersion` (hidden field) turns a concurrent edit into a conflict. */
export async function updateUserAction(_prev: ActionState, formData: FormData): Promise<ActionResult> {
  const result = await runCommand("users:write", updateUser, formData);
  if (result.ok) {
    revalidatePath("/users");
    revalidatePath(`/users/${result.aggregateId}`);
  }
  return result;
}
