"use server";

import { z } from "zod";
import { defineAction } from "@/lib/actions/safe-action";
import { completeSetup, firstAdminInput } from "@/modules/access/application/bootstrap";
import { requestMeta, setSessionCookie } from "@/lib/auth/guard";
import { createSession } from "@/lib/auth/sessions";
import { getCommandDeps, getKafkaConfig } from "@/lib/runtime";

/** The one-time token is checked by completeSetup itself, with the same answer for a missing one as for a used one. */
const setupForm = firstAdminInput.extend({ token: z.string().catch("") });

/** Public, but only with the one-time setup token printed at first start: creates the first admin and signs them in. */
export const completeSetupAction = defineAction({
  name: "CompleteSetup",
  access: "public",
  input: setupForm,
  keep: ["email", "name"],
  run: async ({ token, ...admin }) => {
    const deps = getCommandDeps();
    const userId = await completeSetup(deps, token, admin, getKafkaConfig().PROJECTOR_GROUP_ID);
    await setSessionCookie(await createSession(deps.db, userId, await requestMeta()));
    return {};
  },
  redirect: () => "/users",
});
