/**
 * AES-256-GCM with associated data (node:crypto), the one authenticated cipher
 * of the project: personal data in events (lib/privacy/), data keys wrapped by
 * the key-encryption key (key-wrapper.ts), secrets at rest. A sealed value is
 * one base64url string: 12-byte IV | ciphertext | 16-byte tag. `open` refuses a
 * tampered value or the wrong associated data (the GCM tag), so a ciphertext
 * bound to one event cannot be moved to another.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

export const AEAD_ALGORITHM = "AES-256-GCM";
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_BYTES = 32;

export class DecryptionError extends Error {
  override readonly name = "DecryptionError";
}

const asKey = (key: Buffer) => {
  if (key.length !== KEY_BYTES) throw new Error(`an ${AEAD_ALGORITHM} key is ${KEY_BYTES} bytes, not ${key.length}`);
  return key;
};

export function newDataKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

export function seal(key: Buffer, plaintext: Buffer | string, associatedData: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", asKey(key), iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(associatedData, "utf8"));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString("base64url");
}

/** The plaintext of `sealed`, or DecryptionError (tampered, wrong key or wrong associated data). */
export function open(key: Buffer, sealed: string, associatedData: string): Buffer {
  const bytes = Buffer.from(sealed, "base64url");
  if (bytes.length < IV_BYTES + TAG_BYTES) throw new DecryptionError("sealed value is too short");
  const decipher = createDecipheriv("aes-256-gcm", asKey(key), bytes.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(associatedData, "utf8"));
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new DecryptionError("authentication failed: tampered ciphertext, wrong key or wrong associated data");
  }
}
