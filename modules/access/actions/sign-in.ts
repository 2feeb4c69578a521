"use server";

import { cookies, headers } from "next/headers";
import { redirect } from "next/navigation";
import { failure, formDataToObject, type ActionFailure, type ActionState } from "@/lib/actions/safe-action";
import { clientIp, sessionCookieOptions } from "@/lib/auth/guard";
import { SESSION_COOKIE } from "@/lib/auth/sessions";
import { signIn } from "@/lib/auth/sign-in";
import { safeNextPath } from "@/lib/auth/next-path";
import { getCommandDeps } from "@/lib/runtime";

/** Public: the one action that runs without a session. */
export async function signInAction(_prev: ActionState, formData: FormData): Promise<ActionFailure> {
  const data = formDataToObject(formData);
  const email = typeof data.email === "string" ? data.email : "";
  let result;
  try {
    result = await signIn(getCommandDeps(), data, {
      ip: await clientIp(),
      userAgent: (await headers()).get("user-agent"),
    });
  } catch (error) {
    return failure(error, { email });
  }
  if (!result.ok) {
    return { ok: false, code: result.reason === "no_access" ? "forbidden" : "unauthenticated", message: result.message, values: { email } };
  }
  (await cookies()).set(SESSION_COOKIE, result.secret, await sessionCookieOptions(result.expiresAt));
  redirect(safeNextPath(typeof data.next === "string" ? data.next : null));
}
