"use server";

import { revalidatePath } from "next/cache";
import { runCommand, type ActionResult, type ActionState } from "@/lib/actions/safe-action";
import type { CommandFn } from "@/lib/actions/safe-action";
import { deleteRole } from "@/modules/roles/application/role-commands";

/** The role's events and its members' unassignments, so the wait covers both. */
const deleteRoleAndWaitForMembers: CommandFn = async (deps, ctx, input) => {
  const deleted = await deleteRole(deps, ctx, input);
  return { ...deleted, events: [...deleted.unassigned.flatMap((u) => u.events), ...deleted.events] };
};

/**
 * Deleting a role first unassigns it from every member (events on the users
 * topic), so the wait for the projector covers those events too.
 */
export async function deleteRoleAction(_prev: ActionState, formData: FormData): Promise<ActionResult> {
  const result = await runCommand("roles:write", deleteRoleAndWaitForMembers, formData);
  if (result.ok) {
    revalidatePath("/roles");
    revalidatePath("/roles/[id]", "page");
    revalidatePath("/activity");
    revalidatePath("/users");
    revalidatePath("/users/[id]", "page");
  }
  return result;
}
