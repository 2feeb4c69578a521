"use server";

import { command, type CommandFn } from "@/lib/actions/command";
import { defineAction } from "@/lib/actions/safe-action";
import { deleteRole } from "@/modules/roles/application/role-commands";
import { deleteRoleInput, type DeleteRoleInput } from "@/modules/roles/domain/commands";

/**
 * Deleting a role first unassigns it from every member (events on the users
 * topic), so the wait for the projector covers those events too.
 */
const deleteRoleAndWaitForMembers: CommandFn<DeleteRoleInput> = async (deps, ctx, input) => {
  const deleted = await deleteRole(deps, ctx, input);
  return { ...deleted, events: [...deleted.unassigned.flatMap((u) => u.events), ...deleted.events] };
};

export const deleteRoleAction = defineAction({
  name: "DeleteRole",
  access: "roles:write",
  input: deleteRoleInput,
  ...command(deleteRoleAndWaitForMembers),
  revalidate: ["/roles", ["/roles/[id]", "page"], "/activity", "/users", ["/users/[id]", "page"]],
});
