"use server";

import { defineAction } from "@/lib/actions/safe-action";
import { createTokenInput, revokeTokenInput } from "@/lib/auth/api-tokens";
import { commandContextOf } from "@/lib/auth/principal";
import { getCommandDeps } from "@/lib/runtime";
import { createApiToken, revokeApiToken } from "@/modules/api-tokens/application/token-commands";

/** Creates an API token (ApiTokenCreated); the secret is in this one response and nowhere else afterwards. */
export const createTokenAction = defineAction({
  name: "CreateApiToken",
  access: "tokens:manage",
  input: createTokenInput,
  keep: ["name", "scope"],
  run: async (input, { user }) => {
    const { id, name, scope, secret } = await createApiToken(getCommandDeps(), commandContextOf(user), input);
    return { token: { id, name, scope, secret } };
  },
  revalidate: ["/tokens"],
});

/** Revokes an API token (ApiTokenRevoked): it stops working at its next request. */
export const revokeTokenAction = defineAction({
  name: "RevokeApiToken",
  access: "tokens:manage",
  input: revokeTokenInput,
  run: async (input, { user }) => {
    await revokeApiToken(getCommandDeps(), commandContextOf(user), input);
    return {};
  },
  revalidate: ["/tokens"],
});
