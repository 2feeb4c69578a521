/**
 * API tokens for automation (other services, scripts). The secret is shown
 * once at creation; the database keeps its SHA-256. A token's name is the
 * actor name in the events it causes; its scope is "read" (the read
 * permissions) or "write" (read plus every write a console admin could make,
 * except managing tokens and operating the system). Creating and revoking
 * are commands of the api-tokens module (each an event in the log).
 */
import { z } from "zod";
import type { Db } from "@/lib/db";
import type { Permission } from "./permissions";
import type { Principal } from "./principal";
import { digest } from "./secrets";

export const TOKEN_PREFIX = "ack_";

const SCOPES = {
  read: ["users:read"],
  write: ["users:read", "users:write", "users:erase", "roles:write"],
} as const satisfies Record<string, Permission[]>;

export const createTokenInput = z.object({
  name: z
    .string("Name is required.")
    .trim()
    .min(1, "Name is required.")
    .max(100, "Name must be at most 100 characters.")
    .regex(/^[\w.@-][\w .@-]*$/, "Use letters, digits, spaces, and . _ @ - only."),
  scope: z.enum(["read", "write"], "Scope must be read or write."),
});

export const revokeTokenInput = z.object({ tokenId: z.uuid("Not a valid token id.") });

export const listApiTokens = (db: Db) =>
  db.apiToken.findMany({
    orderBy: [{ revokedAt: { sort: "desc", nulls: "first" } }, { createdAt: "desc" }],
    select: { id: true, name: true, scope: true, createdAt: true, createdBy: true, lastUsedAt: true, revokedAt: true, revokedBy: true },
  });

/** The principal behind an `Authorization: Bearer …` value, or null if unknown or revoked. */
export async function principalFromToken(db: Db, authorization: string | null): Promise<Principal | null> {
  const match = authorization?.match(/^Bearer\s+(\S{1,200})$/i);
  if (!match?.[1]?.startsWith(TOKEN_PREFIX)) return null;
  const token = await db.apiToken.findUnique({ where: { tokenHash: digest(match[1]) } });
  if (!token || token.revokedAt) return null;
  if (!token.lastUsedAt || Date.now() - token.lastUsedAt.getTime() > 60_000) {
    await db.apiToken.update({ where: { id: token.id }, data: { lastUsedAt: new Date() } }).catch(() => undefined);
  }
  const scope = token.scope === "write" ? "write" : "read";
  return { kind: "token", tokenId: token.id, name: token.name, scope, permissions: new Set(SCOPES[scope]) };
}
