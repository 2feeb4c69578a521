/**
 * `Idempotency-Key` for API POSTs. The first request with a key runs; a retry
 * with the same key and the same request gets the first response back (and
 * causes no second event); the same key with a different request is refused.
 * Responses below 500 are kept for 24 hours; a 5xx (e.g. Kafka unavailable)
 * frees the key, so the retry really runs again.
 */
import { createHash } from "node:crypto";
import { Prisma } from "@/generated/prisma/client";
import type { Db } from "@/lib/db";
import { DomainError } from "@/lib/errors";

export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;

export interface StoredResponse {
  status: number;
  body: unknown;
}

export const requestHash = (method: string, path: string, body: string) =>
  createHash("sha256").update(`${method} ${path}\n${body}`).digest("hex");

export async function withIdempotency(
  db: Db,
  scope: { tokenId: string; key: string; requestHash: string },
  run: () => Promise<StoredResponse>,
): Promise<StoredResponse & { replayed: boolean }> {
  if (scope.key.length === 0 || scope.key.length > 200) {
    throw new DomainError("validation", "Idempotency-Key must be 1 to 200 characters.", {
      "Idempotency-Key": ["Must be 1 to 200 characters."],
    });
  }
  await db.idempotencyKey.deleteMany({ where: { createdAt: { lt: new Date(Date.now() - IDEMPOTENCY_TTL_MS) } } });
  const claimed = await db.$executeRaw`
    INSERT INTO idempotency_keys (token_id, key, request_hash) VALUES (${scope.tokenId}::uuid, ${scope.key}, ${scope.requestHash})
    ON CONFLICT DO NOTHING`;
  if (claimed === 0) {
    const first = await db.idempotencyKey.findUnique({ where: { tokenId_key: { tokenId: scope.tokenId, key: scope.key } } });
    if (!first) return withIdempotency(db, scope, run); // freed between our insert and read: try again
    if (first.requestHash !== scope.requestHash) {
      throw new DomainError("validation", "This Idempotency-Key was already used for a different request.", {
        "Idempotency-Key": ["Already used for a different request."],
      });
    }
    if (first.status === null) {
      throw new DomainError("conflict", "A request with this Idempotency-Key is still running; retry in a moment.");
    }
    return { status: first.status, body: first.response, replayed: true };
  }
  const where = { tokenId_key: { tokenId: scope.tokenId, key: scope.key } };
  let response: StoredResponse;
  try {
    response = await run();
  } catch (error) {
    await db.idempotencyKey.delete({ where }).catch(() => undefined);
    throw error;
  }
  if (response.status >= 500) {
    await db.idempotencyKey.delete({ where }).catch(() => undefined);
  } else {
    await db.idempotencyKey.update({
      where,
      data: { status: response.status, response: (response.body ?? Prisma.JsonNull) as Prisma.InputJsonValue },
    });
  }
  return { ...response, replayed: false };
}
