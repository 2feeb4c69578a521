/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com/): HMAC-SHA256
 * over `${webhook-id}.${webhook-timestamp}.${body}` with the secret's bytes
 * (the base64 after `whsec_`), sent as `v1,<base64>`; during a rotation's
 * overlap one signature per secret, separated by spaces. Written here with
 * node:crypto; the tests verify it with the `standardwebhooks` library, which
 * is what receivers use.
 */
import { createHmac, randomBytes } from "node:crypto";

const PREFIX = "whsec_";
const SECRET_BYTES = 32;

/** A new signing secret, as shown once to the admin: `whsec_` + base64 of 32 random bytes. */
export function newSigningSecret(): { text: string; bytes: Buffer } {
  const bytes = randomBytes(SECRET_BYTES);
  return { text: secretText(bytes), bytes };
}

export const secretText = (bytes: Buffer) => `${PREFIX}${bytes.toString("base64")}`;

export interface SignedHeaders {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
}

/** The three headers for `body`, signed with each of `secrets` (the current one first). */
export function signHeaders(secrets: readonly Buffer[], id: string, at: Date, body: string): SignedHeaders {
  if (secrets.length === 0) throw new Error("a webhook is signed with at least one secret");
  const timestamp = String(Math.floor(at.getTime() / 1000));
  const content = `${id}.${timestamp}.${body}`;
  const signatures = secrets.map((s) => `v1,${createHmac("sha256", s).update(content).digest("base64")}`);
  return { "webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": signatures.join(" ") };
}
