"use server";

import { revalidatePath } from "next/cache";
import { runCommand, type ActionResult, type ActionState } from "@/lib/actions/safe-action";
import { assignRole } from "@/modules/users/application/user-commands";

export async function assignRoleAction(_prev: ActionState, formData: FormData): Promise<ActionResult> {
  const result = await runCommand("users:write", assignRole, formData);
  if (result.ok) {
    revalidatePath(`/users/${result.aggregateId}`);
    revalidatePath("/users"); // Roles column
    revalidatePath("/roles"); // member counts
  }
  return result;
}
