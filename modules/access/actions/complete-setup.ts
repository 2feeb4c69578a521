"use server";

import { redirect } from "next/navigation";
import { failure, formDataToObject, type ActionFailure, type ActionState } from "@/lib/actions/safe-action";
import { completeSetup } from "@/modules/access/application/bootstrap";
import { requestMeta, setSessionCookie } from "@/lib/auth/guard";
import { createSession } from "@/lib/auth/sessions";
import { getCommandDeps, getKafkaConfig } from "@/lib/runtime";

/** Public, but only with the one-time setup token printed at first start: creates the first admin and signs them in. */
export async function completeSetupAction(_prev: ActionState, formData: FormData): Promise<ActionFailure> {
  const data = formDataToObject(formData);
  const values = { email: String(data.email ?? ""), name: String(data.name ?? "") };
  let session;
  try {
    const deps = getCommandDeps();
    const userId = await completeSetup(deps, String(data.token ?? ""), data, getKafkaConfig().PROJECTOR_GROUP_ID);
    session = await createSession(deps.db, userId, await requestMeta());
  } catch (error) {
    return failure(error, values);
  }
  await setSessionCookie(session);
  redirect("/users");
}
