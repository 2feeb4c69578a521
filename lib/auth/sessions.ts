/**
 * Console sessions: a random secret in an httpOnly cookie, its SHA-256 in the
 * `sessions` table. Pure data access (no Next.js), so tests and the sign-in
 * flow share it. A session is valid while unexpired AND its user is live and
 * still holds at least one permission: checked on every request.
 */
import type { Tx } from "@/lib/command/execute";
import type { Db } from "@/lib/db";
import { loadLiveUser, type Principal } from "./principal";
import { digest, newSecret } from "./secrets";

export const SESSION_COOKIE = "session";
/** Absolute lifetime: a session ends this long after sign-in, however active. */
export const SESSION_TTL_MS = Number(process.env.SESSION_TTL_HOURS ?? 12) * 3_600_000;

export async function createSession(
  db: Db,
  userId: string,
  meta: { ip: string | null; userAgent: string | null },
): Promise<{ secret: string; expiresAt: Date }> {
  const secret = newSecret();
  const expiresAt = new Date(Date.now() + SESSION_TTL_MS);
  await db.session.create({
    data: { idHash: digest(secret), userId, expiresAt, ip: meta.ip, userAgent: meta.userAgent?.slice(0, 500) ?? null },
  });
  // Housekeeping: expired sessions are useless; drop them as new ones are made.
  await db.session.deleteMany({ where: { expiresAt: { lt: new Date() } } });
  return { secret, expiresAt };
}

/** The signed-in user behind a cookie value, or null (unknown, expired, user deleted, or no permission left). */
export async function principalFromSession(db: Db, secret: string | undefined): Promise<Principal | null> {
  if (!secret || secret.length > 100) return null;
  const idHash = digest(secret);
  const session = await db.session.findUnique({ where: { idHash } });
  if (!session || session.expiresAt.getTime() <= Date.now()) return null;
  const user = await loadLiveUser(db, { id: session.userId });
  if (!user || user.permissions.size === 0) return null;
  if (Date.now() - session.lastSeenAt.getTime() > 60_000) {
    await db.session.update({ where: { idHash }, data: { lastSeenAt: new Date() } }).catch(() => undefined);
  }
  return { kind: "user", userId: user.id, email: user.email, name: user.name, permissions: user.permissions, sessionHash: idHash };
}

/** The session behind a cookie value, expired or not (sign-out ends it either way), or null. */
export async function findSession(db: Db | Tx, secret: string | undefined) {
  if (!secret || secret.length > 100) return null;
  return db.session.findUnique({ where: { idHash: digest(secret) }, select: { idHash: true, userId: true } });
}

/**
 * Every session of a user ends (password reset, or an admin signing them out
 * everywhere), but `except`. Returns how many were still valid: expired ones
 * are deleted too, but they had ended already.
 */
export async function endSessionsOf(db: Db | Tx, userId: string, except?: string): Promise<number> {
  const others = { userId, ...(except ? { idHash: { not: except } } : {}) };
  const { count } = await db.session.deleteMany({ where: { ...others, expiresAt: { gt: new Date() } } });
  await db.session.deleteMany({ where: others });
  return count;
}
