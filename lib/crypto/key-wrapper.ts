/**
 * Envelope encryption: data keys (one per person, webhook secrets, ...) are
 * stored wrapped by a key-encryption key (KEK) that never sits beside them.
 * `KeyWrapper` is the seam where a KMS (AWS KMS Encrypt/Decrypt, Vault transit,
 * GCP KMS) takes the place of the local KEK: both calls are async and carry a
 * context string that is bound to the wrapped key (associated data), so a
 * wrapped key copied to another row does not unwrap.
 */
import { z } from "zod";
import { KEY_BYTES, open, seal } from "./aead";

export interface KeyWrapper {
  /** Names the KEK (stored with each wrapped key, so a rotation knows what to rewrap). */
  readonly id: string;
  wrap(key: Buffer, context: string): Promise<string>;
  unwrap(wrapped: string, context: string): Promise<Buffer>;
}

/** A KEK held in this process (from DATA_KEY_ENCRYPTION_KEY). */
export function localKeyWrapper(kek: Buffer, id = "local"): KeyWrapper {
  if (kek.length !== KEY_BYTES) throw new Error(`the key-encryption key must be ${KEY_BYTES} bytes`);
  return {
    id,
    wrap: async (key, context) => seal(kek, key, `kek:${id}:${context}`),
    unwrap: async (wrapped, context) => open(kek, wrapped, `kek:${id}:${context}`),
  };
}

/** 32 bytes as 64 hex digits or base64 (what `openssl rand -base64 32` prints). */
export const keyEncryptionKeySchema = z
  .string()
  .trim()
  .transform((v, ctx) => {
    const bytes = /^[0-9a-fA-F]{64}$/.test(v) ? Buffer.from(v, "hex") : Buffer.from(v, "base64");
    if (bytes.length !== KEY_BYTES) {
      ctx.addIssue({ code: "custom", message: `must be ${KEY_BYTES} random bytes, as 64 hex digits or base64 (openssl rand -base64 32)` });
      return z.NEVER;
    }
    return bytes;
  });

/** The KEK from DATA_KEY_ENCRYPTION_KEY (required: without it no personal data can be written or read). */
export function keyWrapperFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): KeyWrapper {
  const raw = env.DATA_KEY_ENCRYPTION_KEY;
  if (!raw) {
    throw new Error(
      "Invalid configuration:\n  DATA_KEY_ENCRYPTION_KEY is required (32 random bytes, base64: openssl rand -base64 32); npm start generates one under .data",
    );
  }
  const parsed = keyEncryptionKeySchema.safeParse(raw);
  if (!parsed.success) throw new Error(`Invalid configuration:\n  DATA_KEY_ENCRYPTION_KEY: ${parsed.error.issues[0]?.message}`);
  return localKeyWrapper(parsed.data, env.DATA_KEY_ENCRYPTION_KEY_ID || "local");
}
