"use server";

import { command } from "@/lib/actions/command";
import { defineAction } from "@/lib/actions/safe-action";
import { deleteUser } from "@/modules/users/application/user-commands";
import { deleteUserInput } from "@/modules/users/domain/commands";

export const deleteUserAction = defineAction({
  name: "DeleteUser",
  access: "users:write",
  input: deleteUserInput,
  ...command(deleteUser),
  // A deleted user no longer counts as a member of their roles.
  revalidate: (result) => ["/users", `/users/${result.aggregateId}`, "/roles"],
});
