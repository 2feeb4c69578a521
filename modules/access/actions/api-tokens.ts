"use server";

import { defineAction } from "@/lib/actions/safe-action";
import { createApiToken, createTokenInput, revokeApiToken, revokeTokenInput } from "@/lib/auth/api-tokens";
import { getDb } from "@/lib/db";

/** Creates an API token; the secret is in this one response and nowhere else afterwards. */
export const createTokenAction = defineAction({
  name: "CreateApiToken",
  access: "tokens:manage",
  input: createTokenInput,
  keep: ["name", "scope"],
  run: async (input, { user }) => ({ token: await createApiToken(getDb(), input, user.email) }),
  revalidate: ["/tokens"],
});

export const revokeTokenAction = defineAction({
  name: "RevokeApiToken",
  access: "tokens:manage",
  input: revokeTokenInput,
  run: async (input, { user }) => {
    await revokeApiToken(getDb(), input, user.email);
    return {};
  },
  revalidate: ["/tokens"],
});
