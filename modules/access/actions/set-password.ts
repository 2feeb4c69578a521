"use server";

import { z } from "zod";
import { runAuthorized, type ActionState } from "@/lib/actions/safe-action";
import { hashPassword, passwordSchema } from "@/lib/auth/password";
import { assertCanGrant } from "@/lib/auth/permissions";
import { loadLiveUser } from "@/lib/auth/principal";
import { endSessionsOf } from "@/lib/auth/sessions";
import { parseInput } from "@/lib/command/validate";
import { getDb } from "@/lib/db";
import { notFound } from "@/lib/errors";

const setPasswordInput = z.object({ userId: z.uuid("Not a valid user id."), password: passwordSchema });

export type SetPasswordState = ActionState | { ok: true; message: string };

/**
 * Sets or resets another user's password (kept in PostgreSQL only, never in an
 * event). Their open sessions end. Setting the password of someone holding
 * permissions you lack would be a way into their account, so it is refused.
 */
export async function setPasswordAction(_prev: SetPasswordState, formData: FormData): Promise<SetPasswordState> {
  const result = await runAuthorized("users:write", async (admin) => {
    const { userId, password } = parseInput(setPasswordInput, {
      userId: formData.get("userId"),
      password: formData.get("password"),
    });
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
    return `Password set for ${target.email}.`;
  });
  return result.ok ? { ok: true, message: result.value } : result;
}
