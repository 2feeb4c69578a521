"use server";

import { command } from "@/lib/actions/command";
import { defineAction } from "@/lib/actions/safe-action";
import { createUser } from "@/modules/users/application/user-commands";
import { createUserInput } from "@/modules/users/domain/commands";

/** Creates a user, then opens their page (`?pending=1` while the projector catches up). */
export const createUserAction = defineAction({
  name: "CreateUser",
  access: "users:write",
  input: createUserInput,
  keep: ["email", "name"],
  ...command(createUser),
  revalidate: ["/users"],
  redirect: (result) => `/users/${result.aggregateId}${result.projected ? "" : "?pending=1"}`,
});
