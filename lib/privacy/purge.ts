/**
 * An erasure's purge of what is not derived from the log and holds a person's
 * data in clear: their sessions, credential and failed sign-ins, the
 * "who did it" columns that name them by email (API tokens, passwords set,
 * rebuilds asked for, dead letters resolved), dead-letter values that name
 * them, and API idempotency records whose response names them. Runs in the
 * erasure's transaction, so the purge and the erasure event land together.
 * (The notifiers purge their own copy when they read the erasure event.)
 */
import type { SqlTx } from "@/lib/sql-tx";
import { ERASED } from "./personal-data";

export interface PurgeCounts {
  sessions: number;
  credentials: number;
  signInFailures: number;
  namedAsActor: number;
  deadLetters: number;
  idempotencyRecords: number;
}

/** LIKE pattern for `text` anywhere (its own %, _ and \ escaped). */
const containing = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export async function purgePersonalRecords(tx: SqlTx, person: { id: string; email: string | null }): Promise<PurgeCounts> {
  const email = person.email && person.email !== ERASED ? person.email.toLowerCase() : null;
  const sessions = await tx.$executeRaw`DELETE FROM sessions WHERE user_id = ${person.id}::uuid`;
  const credentials = await tx.$executeRaw`DELETE FROM credentials WHERE user_id = ${person.id}::uuid`;
  let signInFailures = 0;
  let namedAsActor = 0;
  if (email) {
    signInFailures = await tx.$executeRaw`DELETE FROM sign_in_failures WHERE email_lower = ${email}`;
    namedAsActor += await tx.$executeRaw`UPDATE credentials SET updated_by = ${ERASED} WHERE lower(updated_by) = ${email}`;
    namedAsActor += await tx.$executeRaw`UPDATE api_tokens SET created_by = ${ERASED} WHERE lower(created_by) = ${email}`;
    namedAsActor += await tx.$executeRaw`UPDATE api_tokens SET revoked_by = ${ERASED} WHERE lower(revoked_by) = ${email}`;
    namedAsActor += await tx.$executeRaw`UPDATE read_model_rebuilds SET requested_by = ${ERASED} WHERE lower(requested_by) = ${email}`;
    namedAsActor += await tx.$executeRaw`UPDATE dead_letters SET resolved_by = ${ERASED} WHERE lower(resolved_by) = ${email}`;
  }
  // A dead letter is a message the projector could not read: its value may hold the person in clear.
  const deadLetters = await tx.$executeRaw`
    UPDATE dead_letters SET value = NULL, reason = reason || ${` (value purged by the erasure of ${person.id})`}
    WHERE value IS NOT NULL AND (key = ${person.id} OR value LIKE ${containing(person.id)}
      OR (${email}::text IS NOT NULL AND lower(value) LIKE ${containing(email ?? "")}))`;
  const idempotencyRecords = await tx.$executeRaw`
    DELETE FROM idempotency_keys WHERE response::text LIKE ${containing(person.id)}
      OR (${email}::text IS NOT NULL AND lower(response::text) LIKE ${containing(email ?? "")})`;
  return { sessions, credentials, signInFailures, namedAsActor, deadLetters, idempotencyRecords };
}
