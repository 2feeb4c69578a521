/**
 * Password sign-in, usable without Next.js. Throttled per account and per IP;
 * every failure reads the same ("Email or password is incorrect."), takes the
 * same time whether or not the account exists, and counts against the email
 * as typed. A success publishes UserLoggedIn (the audit trail comes first: if
 * Kafka is down, nobody signs in unrecorded) and then opens a session.
 */
import { z } from "zod";
import type { CommandDeps } from "@/lib/command/execute";
import { parseInput } from "@/lib/command/validate";
import type { Db } from "@/lib/db";
import { recordLogin } from "@/modules/users/application/user-commands";
import { verifyPassword } from "@/lib/auth/password";
import { loadLiveUser } from "@/lib/auth/principal";
import { createSession } from "@/lib/auth/sessions";

export const THROTTLE = {
  windowMs: 15 * 60_000,
  /** Failures per account (email as typed, lower-cased) within the window. */
  perAccount: 5,
  /** Failures per client IP within the window. */
  perIp: 50,
} as const;

export const signInInput = z.object({
  email: z.string("Email is required.").trim().min(1, "Email is required.").max(320, "Email is too long."),
  password: z.string("Password is required.").min(1, "Password is required.").max(256, "Password is too long."),
});

export type SignInResult =
  | { ok: true; userId: string; secret: string; expiresAt: Date }
  | { ok: false; reason: "invalid" | "throttled" | "no_access"; message: string };

export const INVALID_CREDENTIALS = "Email or password is incorrect.";

export async function signIn(
  deps: CommandDeps,
  input: unknown,
  meta: { ip: string; userAgent: string | null },
): Promise<SignInResult> {
  const { email, password } = parseInput(signInInput, input);
  const emailLower = email.toLowerCase();
  const wait = await throttled(deps.db, emailLower, meta.ip);
  if (wait !== null) {
    const minutes = Math.max(1, Math.ceil(wait / 60_000));
    return {
      ok: false,
      reason: "throttled",
      message: `Too many failed sign-in attempts. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`,
    };
  }
  const user = await loadLiveUser(deps.db, { emailLower });
  const credential = user ? await deps.db.credential.findUnique({ where: { userId: user.id } }) : null;
  const valid = await verifyPassword(credential?.passwordHash ?? null, password);
  if (!user || !valid) {
    await deps.db.signInFailure.create({ data: { emailLower, ip: meta.ip } });
    return { ok: false, reason: "invalid", message: INVALID_CREDENTIALS };
  }
  if (user.permissions.size === 0) {
    return { ok: false, reason: "no_access", message: "This account has no access to the console: ask an administrator for a role." };
  }
  await recordLogin(
    deps,
    { actor: { kind: "user", userId: user.id, email: user.email, name: user.name } },
    { userId: user.id, ip: meta.ip, userAgent: meta.userAgent },
  );
  await deps.db.signInFailure.deleteMany({ where: { emailLower } });
  const session = await createSession(deps.db, user.id, meta);
  return { ok: true, userId: user.id, ...session };
}

/** Milliseconds until the next attempt is allowed, or null when it is allowed now. */
async function throttled(db: Db, emailLower: string, ip: string): Promise<number | null> {
  const since = new Date(Date.now() - THROTTLE.windowMs);
  await db.signInFailure.deleteMany({ where: { at: { lt: since } } });
  const [account, byIp] = await Promise.all([
    db.signInFailure.findMany({ where: { emailLower, at: { gte: since } }, orderBy: { at: "desc" }, take: THROTTLE.perAccount }),
    db.signInFailure.findMany({ where: { ip, at: { gte: since } }, orderBy: { at: "desc" }, take: THROTTLE.perIp }),
  ]);
  const waits = [
    account.length >= THROTTLE.perAccount ? account.at(-1)!.at.getTime() + THROTTLE.windowMs - Date.now() : null,
    byIp.length >= THROTTLE.perIp ? byIp.at(-1)!.at.getTime() + THROTTLE.windowMs - Date.now() : null,
  ].filter((w): w is number => w !== null);
  return waits.length ? Math.max(...waits) : null;
}
