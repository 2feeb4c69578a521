"use server";

import { command } from "@/lib/actions/command";
import { defineAction } from "@/lib/actions/safe-action";
import { unassignRole } from "@/modules/users/application/user-commands";
import { unassignRoleInput } from "@/modules/users/domain/commands";

export const unassignRoleAction = defineAction({
  name: "UnassignRole",
  access: "users:write",
  input: unassignRoleInput,
  ...command(unassignRole),
  // The user's page, the Roles column, member counts.
  revalidate: (result) => [`/users/${result.aggregateId}`, "/users", "/roles"],
});
