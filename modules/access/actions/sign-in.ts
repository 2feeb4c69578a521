"use server";

import { redirect } from "next/navigation";
import { failure, formDataToObject, type ActionFailure, type ActionState } from "@/lib/actions/safe-action";
import { requestMeta, setSessionCookie } from "@/lib/auth/guard";
import { signIn } from "@/modules/access/application/sign-in";
import { safeNextPath } from "@/lib/auth/next-path";
import { getCommandDeps } from "@/lib/runtime";

/** Public: the one action that runs without a session. */
export async function signInAction(_prev: ActionState, formData: FormData): Promise<ActionFailure> {
  const data = formDataToObject(formData);
  const email = typeof data.email === "string" ? data.email : "";
  let result;
  try {
    result = await signIn(getCommandDeps(), data, await requestMeta());
  } catch (error) {
    return failure(error, { email });
  }
  if (!result.ok) {
    return { ok: false, code: result.reason === "no_access" ? "forbidden" : "unauthenticated", message: result.message, values: { email } };
  }
  await setSessionCookie(result);
  redirect(safeNextPath(typeof data.next === "string" ? data.next : null));
}
