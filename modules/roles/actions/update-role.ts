"use server";

import { revalidatePath } from "next/cache";
import { runCommand, type ActionResult, type ActionState } from "@/lib/actions/safe-action";
import { updateRole } from "@/modules/roles/application/role-commands";

export async function updateRoleAction(_prev: ActionState, formData: FormData): Promise<ActionResult> {
  const result = await runCommand("roles:write", updateRole, formData);
  if (result.ok) {
    revalidatePath("/roles");
    revalidatePath("/roles/[id]", "page");
    revalidatePath("/activity");
    // Role names show in the users table and on user pages.
    revalidatePath("/users");
    revalidatePath("/users/[id]", "page");
  }
  return result;
}
