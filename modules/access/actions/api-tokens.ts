"use server";

import { revalidatePath } from "next/cache";
import { runAuthorized, type ActionFailure } from "@/lib/actions/safe-action";
import { createApiToken, revokeApiToken } from "@/lib/auth/api-tokens";
import { getDb } from "@/lib/db";

export type CreateTokenState =
  | null
  | ActionFailure
  | { ok: true; token: { id: string; name: string; scope: string; secret: string } };

/** Creates an API token; the secret is in this one response and nowhere else afterwards. */
export async function createTokenAction(_prev: CreateTokenState, formData: FormData): Promise<CreateTokenState> {
  // Input is read only after the check (runAuthorized), like every action.
  let values: Record<string, string> | undefined;
  const result = await runAuthorized(
    "tokens:manage",
    (admin) => {
      values = { name: String(formData.get("name") ?? ""), scope: String(formData.get("scope") ?? "") };
      return createApiToken(getDb(), values, admin.email);
    },
  );
  if (!result.ok && values) result.values = values;
  if (!result.ok) return result;
  revalidatePath("/tokens");
  return { ok: true, token: result.value };
}

export type RevokeTokenState = null | ActionFailure | { ok: true };

export async function revokeTokenAction(_prev: RevokeTokenState, formData: FormData): Promise<RevokeTokenState> {
  const result = await runAuthorized("tokens:manage", (admin) =>
    revokeApiToken(getDb(), { tokenId: formData.get("tokenId") }, admin.email),
  );
  if (!result.ok) return result;
  revalidatePath("/tokens");
  return { ok: true };
}
