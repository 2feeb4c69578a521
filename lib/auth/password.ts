/**
 * Password hashing: argon2id (OWASP's minimum: 19 MiB, 2 passes, 1 lane).
 * Hashes live in the `credentials` table only, never in an event.
 */
import { hash, verify } from "@node-rs/argon2";
import { z } from "zod";

const OPTIONS = { algorithm: 2 /* Algorithm.Argon2id (a const enum, unusable under isolatedModules) */, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const passwordSchema = z
  .string("Password is required.")
  .min(12, "Password must be at least 12 characters.")
  .max(256, "Password must be at most 256 characters.");

export const hashPassword = (password: string) => hash(password, OPTIONS);

/** A hash of nothing anyone knows: verified against when the account does not exist, so timing tells nothing. */
let decoy: Promise<string> | undefined;

/** True when `password` matches `stored`; with no stored hash, spends the same time and returns false. */
export async function verifyPassword(stored: string | null, password: string): Promise<boolean> {
  if (!stored) {
    decoy ??= hashPassword(crypto.randomUUID());
    await verify(await decoy, password).catch(() => false);
    return false;
  }
  return verify(stored, password).catch(() => false);
}
