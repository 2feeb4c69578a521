"use server";

import { command } from "@/lib/actions/command";
import { defineAction } from "@/lib/actions/safe-action";
import { updateUser } from "@/modules/users/application/user-commands";
import { updateUserInput } from "@/modules/users/domain/commands";

/** Saves a user's email/name; `expectedVersion` (hidden field) turns a concurrent edit into a conflict. */
export const updateUserAction = defineAction({
  name: "UpdateUser",
  access: "users:write",
  input: updateUserInput,
  keep: ["email", "name"],
  ...command(updateUser),
  revalidate: (result) => ["/users", `/users/${result.aggregateId}`],
});
