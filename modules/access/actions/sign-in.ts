"use server";

import { after } from "next/server";
import { z } from "zod";
import { defineAction } from "@/lib/actions/safe-action";
import { requestMeta, setSessionCookie } from "@/lib/auth/guard";
import { safeNextPath } from "@/lib/auth/next-path";
import { signIn, signInInput } from "@/modules/access/application/sign-in";
import { DomainError } from "@/lib/errors";
import { getLogger } from "@/lib/log";
import { getCommandDeps } from "@/lib/runtime";

/** `next`: where to go afterwards; anything but one path is ignored (safeNextPath checks it). */
const signInForm = signInInput.extend({ next: z.string().optional().catch(undefined) });

/**
 * Public: the one action that runs without a session. Every refusal (wrong
 * password, throttled, no role) is an expected error whose message the form
 * shows as it is, with the email kept. A refusal for a known account is
 * recorded after the answer is sent (see signIn), and a failure to record it
 * is logged.
 */
export const signInAction = defineAction({
  name: "SignIn",
  access: "public",
  input: signInForm,
  keep: ["email"],
  run: async (input) => {
    const result = await signIn(getCommandDeps(), input, await requestMeta(), {
      defer: (record) =>
        after(() =>
          record().catch((error: unknown) => getLogger().error({ err: error }, "failed sign-in not recorded in the log")),
        ),
    });
    if (!result.ok) throw new DomainError(result.reason === "no_access" ? "forbidden" : "unauthenticated", result.message);
    await setSessionCookie(result);
    return {};
  },
  redirect: (_, input) => safeNextPath(input.next ?? null),
});
