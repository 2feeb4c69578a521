"use server";

import { command } from "@/lib/actions/command";
import { defineAction } from "@/lib/actions/safe-action";
import { updateRole } from "@/modules/roles/application/role-commands";
import { updateRoleInput } from "@/modules/roles/domain/commands";

export const updateRoleAction = defineAction({
  name: "UpdateRole",
  access: "roles:write",
  input: updateRoleInput,
  keep: ["name", "description"],
  ...command(updateRole),
  // Role names show in the users table and on user pages too.
  revalidate: ["/roles", ["/roles/[id]", "page"], "/activity", "/users", ["/users/[id]", "page"]],
});
