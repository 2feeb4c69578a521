"use server";

import { command } from "@/lib/actions/command";
import { defineAction } from "@/lib/actions/safe-action";
import { createRole } from "@/modules/roles/application/role-commands";
import { createRoleInput } from "@/modules/roles/domain/commands";

export const createRoleAction = defineAction({
  name: "CreateRole",
  access: "roles:write",
  input: createRoleInput,
  keep: ["name", "description"],
  ...command(createRole),
  // The user pages' "Assign role" select lists live roles.
  revalidate: ["/roles", "/activity", ["/users/[id]", "page"]],
});
