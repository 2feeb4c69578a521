"use server";

import { revalidatePath } from "next/cache";
import { runCommand, type ActionResult, type ActionState } from "@/lib/actions/safe-action";
import { deleteUser } from "@/modules/users/application/user-commands";

export async function deleteUserAction(_prev: ActionState, formData: FormData): Promise<ActionResult> {
  const result = await runCommand("users:write", deleteUser, formData);
  if (result.ok) {
    revalidatePath("/users");
    revalidatePath(`/users/${result.aggregateId}`);
    // A deleted user no longer counts as a member of their roles.
    revalidatePath("/roles");
  }
  return result;
}
