"use server";

import { z } from "zod";
import { defineAction, type ActionState } from "@/lib/actions/safe-action";
import { passwordSchema } from "@/lib/auth/password";
import { assertCanGrant } from "@/lib/auth/permissions";
import { commandContextOf, loadLiveUser } from "@/lib/auth/principal";
import { getDb } from "@/lib/db";
import { notFound } from "@/lib/errors";
import { getCommandDeps } from "@/lib/runtime";
import { setPassword } from "@/modules/access/application/account-security";

const setPasswordInput = z.object({ userId: z.uuid("Not a valid user id."), password: passwordSchema });

export type SetPasswordState = ActionState<{ message: string }>;

/**
 * Sets or resets another user's password (the hash stays in PostgreSQL; the
 * log gets UserPasswordSet, and UserSessionsEnded for the sessions it ends).
 * Setting the password of someone holding permissions you lack would be a way
 * into their account, so it is refused.
 */
export const setPasswordAction = defineAction({
  name: "SetPassword",
  access: "users:write",
  input: setPasswordInput,
  run: async ({ userId, password }, { user: admin }) => {
    const target = await loadLiveUser(getDb(), { id: userId });
    if (!target) throw notFound("That user");
    assertCanGrant(admin.permissions, [...target.permissions], `set the password of ${target.email}`);
    const keepSession = userId === admin.userId ? admin.sessionHash : undefined;
    await setPassword(getCommandDeps(), commandContextOf(admin), { userId, password }, { keepSession });
    return { message: `Password set for ${target.email}.` };
  },
});
