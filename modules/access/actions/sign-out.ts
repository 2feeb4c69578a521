"use server";

import { cookies } from "next/headers";
import { defineAction } from "@/lib/actions/safe-action";
import { requestMeta } from "@/lib/auth/guard";
import { SESSION_COOKIE } from "@/lib/auth/sessions";
import { getLogger } from "@/lib/log";
import { getCommandDeps } from "@/lib/runtime";
import { signOut } from "@/modules/access/application/account-security";

/**
 * Ends this browser's session (its row is deleted: the cookie is worthless from
 * now on) and records UserLoggedOut. Reads no input. The session ends even when
 * the record cannot be written (Kafka down): that is logged, not shown.
 */
export const signOutAction = defineAction({
  name: "SignOut",
  access: "public",
  run: async () => {
    const jar = await cookies();
    const { error } = await signOut(getCommandDeps(), jar.get(SESSION_COOKIE)?.value, await requestMeta());
    if (error) getLogger().error({ err: error }, "sign-out not recorded in the log (the session ended)");
    jar.delete(SESSION_COOKIE);
    return {};
  },
  redirect: () => "/sign-in",
});
