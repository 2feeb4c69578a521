"use server";

import { revalidatePath } from "next/cache";
import { runCommand, type ActionResult, type ActionState } from "@/lib/actions/safe-action";
import { createRole } from "@/modules/roles/application/role-commands";

export async function createRoleAction(_prev: ActionState, formData: FormData): Promise<ActionResult> {
  const result = await runCommand("roles:write", createRole, formData);
  if (result.ok) {
    revalidatePath("/roles");
    revalidatePath("/activity");
    revalidatePath("/users/[id]", "page"); // the "Assign role" select lists live roles
  }
  return result;
}
