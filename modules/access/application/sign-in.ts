/**
 * Password sign-in, usable without Next.js. Throttled per account and per IP;
 * every failure reads the same ("Email or password is incorrect."), takes the
 * same time whether or not the account exists, and counts against the email
 * as typed. A success publishes UserLoggedIn (the audit trail comes first: if
 * Kafka is down, nobody signs in unrecorded) and then opens a session.
 *
 * A refusal for a live account (wrong password, no password yet, or no
 * permission) is recorded as UserLoginFailed on that user's stream; one for an
 * unknown email only as a `sign_in_failures` row (kept 15 minutes, for the
 * throttle), so nobody can write to the log at will. Throttled attempts record
 * nothing, which bounds the events to 5 per account per 15 minutes. The record
 * is handed to `defer` (the action runs it after the response is sent), so a
 * known account is not told apart from an unknown one by the time it takes.
 */
import { z } from "zod";
import type { CommandDeps } from "@/lib/command/execute";
import { parseInput } from "@/lib/command/validate";
import type { Db } from "@/lib/db";
import { recordLogin, recordLoginFailure } from "@/modules/users/application/user-commands";
import { SYSTEM_CONTEXT } from "./bootstrap";
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

type LoginFailure = "wrong-password" | "no-password" | "no-access";

export interface SignInOptions {
  /**
   * Runs a refusal's record (UserLoginFailed). Default: at once, before the
   * answer. The server action passes Next's `after`, so the answer does not
   * wait for Kafka (see above); a record that fails is then only logged.
   */
  defer?: (record: () => Promise<unknown>) => void | Promise<void>;
}

export async function signIn(
  deps: CommandDeps,
  input: unknown,
  meta: { ip: string; userAgent: string | null },
  options: SignInOptions = {},
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
  if (!user || !valid || user.permissions.size === 0) {
    // A right password without access counts too: otherwise its holder could fill the user's log at will.
    await deps.db.signInFailure.create({ data: { emailLower, ip: meta.ip } });
    if (user) {
      const reason: LoginFailure = !credential ? "no-password" : !valid ? "wrong-password" : "no-access";
      const record = () => recordLoginFailure(deps, SYSTEM_CONTEXT, { userId: user.id, reason, ip: meta.ip, userAgent: meta.userAgent });
      await (options.defer ?? ((run) => run().then(() => undefined)))(record);
    }
    return valid && user
      ? { ok: false, reason: "no_access", message: "This account has no access to the console: ask an administrator for a role." }
      : { ok: false, reason: "invalid", message: INVALID_CREDENTIALS };
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
