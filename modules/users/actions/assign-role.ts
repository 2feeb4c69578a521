"use server";

import { command } from "@/lib/actions/command";
import { defineAction } from "@/lib/actions/safe-action";
import { assignRole } from "@/modules/users/application/user-commands";
import { assignRoleInput } from "@/modules/users/domain/commands";

export const assignRoleAction = defineAction({
  name: "AssignRole",
  access: "users:write",
  input: assignRoleInput,
  ...command(assignRole),
  // The user's page, the Roles column, member counts.
  revalidate: (result) => [`/users/${result.aggregateId}`, "/users", "/roles"],
});
