"use server";

import { z } from "zod";
import { command } from "@/lib/actions/command";
import { defineAction } from "@/lib/actions/safe-action";
import { getPersonalDataKeys } from "@/lib/runtime";
import { eraseUser } from "@/modules/privacy/application/erase-person";
import { eraseUserInput } from "@/modules/users/domain/commands";

const eraseUserForm = eraseUserInput.extend({
  confirmEmail: z.string().trim().min(1, "Type the user's email to confirm."),
});

const base = command((deps, ctx, input: z.output<typeof eraseUserForm>) =>
  eraseUser({ ...deps, personalData: getPersonalDataKeys() }, ctx, input, { confirmEmail: input.confirmEmail }),
);

export const eraseUserAction = defineAction({
  name: "EraseUser",
  access: "users:erase",
  input: eraseUserForm,
  keep: ["reason"],
  run: base.run,
  settle: async (result) => ({ ...(await base.settle(result)), eventsInClear: result.eventsInClear }),
  revalidate: (result) => ["/users", `/users/${result.aggregateId}`, "/roles", "/activity"],
});
