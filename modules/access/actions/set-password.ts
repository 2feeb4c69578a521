"use server";

import { z } from "zod";
import { defineAction, type ActionState } from "@/lib/actions/safe-action";
import { hashPassword, passwordSchema } from "@/lib/auth/password";
import { assertCanGrant } from "@/lib/auth/permissions";
import { loadLiveUser } from "@/lib/auth/principal";
import { endSessionsOf } from "@/lib/auth/sessions";
import { getDb } from "@/lib/db";
import { notFound } from "@/lib/errors";

const setPasswordInput = z.object({ userId: z.uuid("Not a valid user id."), password: passwordSchema });

export type SetPasswordState = ActionState<{ message: string }>;

/**
 * Sets or resets another user's password (kept in PostgreSQL only, never in an
 * event). Their open sessions end. Setting the password of someone holding
 * permissions you lack would be a way into their account, so it is refused.
 */
export const setPasswordAction = defineAction({
  name: "SetPassword",
  access: "users:write",
  input: setPasswordInput,
  run: async ({ userId, password }, { user: admin }) => {
    const db = getDb();
    const target = await loadLiveUser(db, { id: userId });
    if (!target) throw notFound("That user");
    assertCanGrant(admin.permissions, [...target.permissions], `set the password of ${target.email}`);
    const passwordHash = await hashPassword(password);
    await db.credential.upsert({
      where: { userId },
      create: { userId, passwordHash, updatedBy: admin.email },
      update: { passwordHash, updatedBy: admin.email, updatedAt: new Date() },
    });
    await endSessionsOf(db, userId, userId === admin.userId ? admin.sessionHash : undefined);
    return { message: `Password set for ${target.email}.` };
  },
});
