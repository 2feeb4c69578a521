/**
 * Who is making a request: a signed-in user (console) or an API token
 * (automation), with the permissions they hold right now. Read from the read
 * model on every request, so a deleted user or a removed role takes effect at
 * the next request. Server only.
 */
import { Prisma } from "@/generated/prisma/client";
import type { CommandContext } from "@/lib/command/execute";
import type { Db } from "@/lib/db";
import type { Actor } from "@/lib/events/envelope";
import { isPermission, type Permission } from "./permissions";

export type Principal =
  | { kind: "user"; userId: string; email: string; name: string; permissions: ReadonlySet<Permission>; sessionHash: string }
  | { kind: "token"; tokenId: string; name: string; scope: "read" | "write"; permissions: ReadonlySet<Permission> };

/** The actor recorded in the events a principal causes. */
export function actorOf(principal: Principal): Actor {
  return principal.kind === "user"
    ? { kind: "user", userId: principal.userId, email: principal.email, name: principal.name }
    : { kind: "service", name: principal.name };
}

/** The command context of a principal: who acts, and what they may grant (lib/command/execute.ts). */
export function commandContextOf(principal: Principal, correlationId?: string): CommandContext {
  return { actor: actorOf(principal), grantable: principal.permissions, ...(correlationId ? { correlationId } : {}) };
}

export interface LiveUser {
  id: string;
  email: string;
  name: string;
  permissions: Set<Permission>;
}

/** A live (not deleted) user and the union of the permissions of their live roles; null if gone. */
export async function loadLiveUser(db: Db, where: { id: string } | { emailLower: string }): Promise<LiveUser | null> {
  const rows =
    "id" in where
      ? await db.$queryRaw<Row[]>`${SELECT_USER} WHERE u.id = ${where.id}::uuid AND NOT u.is_deleted GROUP BY u.id`
      : await db.$queryRaw<Row[]>`${SELECT_USER} WHERE u.email_lower = ${where.emailLower} AND NOT u.is_deleted GROUP BY u.id`;
  const row = rows[0];
  if (!row) return null;
  return { id: row.id, email: row.email, name: row.name, permissions: new Set(row.permissions.filter(isPermission)) };
}

type Row = { id: string; email: string; name: string; permissions: string[] };

const SELECT_USER = Prisma.sql`
  SELECT u.id::text, u.email, u.name,
    COALESCE(array_agg(DISTINCT p.permission) FILTER (WHERE p.permission IS NOT NULL), '{}') AS permissions
  FROM users u
  LEFT JOIN user_roles ur ON ur.user_id = u.id
  LEFT JOIN roles r ON r.id = ur.role_id AND NOT r.is_deleted
  LEFT JOIN LATERAL unnest(r.permissions) AS p(permission) ON true`;
