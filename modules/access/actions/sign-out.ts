"use server";

import { cookies } from "next/headers";
import { defineAction } from "@/lib/actions/safe-action";
import { endSession, SESSION_COOKIE } from "@/lib/auth/sessions";
import { getDb } from "@/lib/db";

/** Ends this browser's session (its row is deleted: the cookie is worthless from now on). Reads no input. */
export const signOutAction = defineAction({
  name: "SignOut",
  access: "public",
  run: async () => {
    const jar = await cookies();
    await endSession(getDb(), jar.get(SESSION_COOKIE)?.value);
    jar.delete(SESSION_COOKIE);
    return {};
  },
  redirect: () => "/sign-in",
});
