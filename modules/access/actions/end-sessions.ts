"use server";

import { z } from "zod";
import { defineAction, type ActionState } from "@/lib/actions/safe-action";
import { assertCanGrant } from "@/lib/auth/permissions";
import { commandContextOf, loadLiveUser } from "@/lib/auth/principal";
import { getDb } from "@/lib/db";
import { notFound } from "@/lib/errors";
import { getCommandDeps } from "@/lib/runtime";
import { endSessions } from "@/modules/access/application/account-security";

const endSessionsInput = z.object({ userId: z.uuid("Not a valid user id.") });

export type EndSessionsState = ActionState<{ message: string }>;

/**
 * Signs a user out everywhere (UserSessionsEnded, reason ended-by-admin). It
 * needs the same standing as setting their password; an admin doing it to
 * themselves keeps the session they act from.
 */
export const endSessionsAction = defineAction({
  name: "EndSessions",
  access: "users:write",
  input: endSessionsInput,
  run: async ({ userId }, { user: admin }) => {
    const target = await loadLiveUser(getDb(), { id: userId });
    if (!target) throw notFound("That user");
    assertCanGrant(admin.permissions, [...target.permissions], `sign out ${target.email}`);
    const keepSession = userId === admin.userId ? admin.sessionHash : undefined;
    const { count } = await endSessions(getCommandDeps(), commandContextOf(admin), { userId }, { keepSession });
    const message =
      count === 0 ? `${target.email} had no open session.` : `${count} session${count === 1 ? "" : "s"} of ${target.email} ended.`;
    return { message };
  },
});
