"use server";

import { command, type CommandFn } from "@/lib/actions/command";
import { defineAction } from "@/lib/actions/safe-action";
import { deleteRole } from "@/modules/roles/application/role-commands";
import { deleteRoleInput, type DeleteRoleInput } from "@/modules/roles/domain/commands";

/**
 * Deleting a role first unassigns it from every member (events on the users
 * topic), so the wait for the projector covers those events too: the last one
 * on each partition stands for all of them (a member count of 100,000 would
 * otherwise be 100,000 positions to check). The role's page shows the
 * deletion's progress meanwhile (RoleDeletionProgress polls it).
 */
const deleteRoleAndWaitForMembers: CommandFn<DeleteRoleInput> = async (deps, ctx, input) => {
  const deleted = await deleteRole(deps, ctx, input);
  return { ...deleted, events: [...deleted.unassigned.lastPerPartition, ...deleted.events] };
};

export const deleteRoleAction = defineAction({
  name: "DeleteRole",
  access: "roles:write",
  input: deleteRoleInput,
  ...command(deleteRoleAndWaitForMembers),
  revalidate: ["/roles", ["/roles/[id]", "page"], "/activity", "/users", ["/users/[id]", "page"]],
});
