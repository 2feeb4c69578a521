"use server";

import { command } from "@/lib/actions/command";
import { defineAction } from "@/lib/actions/safe-action";
import { changeRoleOfUsers } from "@/modules/users/application/bulk-roles";
import { changeRoleOfUsersInput } from "@/modules/users/domain/commands";

/**
 * The bulk actions' assign and unassign: one call per chunk of the selection, each user's outcome
 * in `results` (modules/users/application/bulk-roles.ts). The read-your-writes wait covers every
 * event through the last one on each partition.
 */
export const changeRoleOfUsersAction = defineAction({
  name: "ChangeRoleOfUsers",
  access: "users:write",
  input: changeRoleOfUsersInput,
  ...command(changeRoleOfUsers, (result) => ({ role: result.role, results: result.results })),
  revalidate: ["/users", ["/users/[id]", "page"], "/roles", ["/roles/[id]", "page"]],
});
