/**
 * The PostgreSQL changes that secure an account, each written together with
 * the event that records it on the user's stream (issue 13): a password set or
 * reset (with the sessions it ends), an administrator ending a user's
 * sessions, and a sign-out. Usable without Next.js.
 *
 * Each runs in one PostgreSQL transaction: the credential or session rows
 * change first, then the user's head row is locked and the event appended
 * (lib/command/execute.ts); the commit follows the broker's ack. If Kafka does
 * not acknowledge, the transaction rolls back and nothing changed. The one
 * window left is the general one (README, Failure windows): an event
 * acknowledged whose commit then fails.
 */
import { hashPassword } from "@/lib/auth/password";
import { endSessionsOf, findSession } from "@/lib/auth/sessions";
import { inTransaction, type CommandContext, type CommandDeps, type CommandResult } from "@/lib/command/execute";
import type { Actor } from "@/lib/events/envelope";
import { loadLiveUser } from "@/lib/auth/principal";
import { recordLogout, recordPasswordSet, recordSessionsEnded } from "@/modules/users/application/user-commands";


/** What `credentials.updated_by` holds: the admin's email, or a service's name. */
const actorLabel = (actor: Actor) => (actor.kind === "user" ? actor.email : actor.name);

/**
 * Sets (first time) or resets a user's password: UserPasswordSet, then
 * UserSessionsEnded (password-reset) when sessions were open. `keepSession`
 * (an admin resetting their own password) keeps the session they act from;
 * `updatedBy` overrides what `credentials.updated_by` says (first start).
 */
export async function setPassword(
  deps: CommandDeps,
  ctx: CommandContext,
  input: { userId: string; password: string },
  options: { keepSession?: string; updatedBy?: string } = {},
): Promise<CommandResult> {
  const { userId } = input;
  const passwordHash = await hashPassword(input.password); // before the transaction: it takes a while
  const updatedBy = options.updatedBy ?? actorLabel(ctx.actor);
  return inTransaction(deps.db, async (tx) => {
    const had = await tx.credential.findUnique({ where: { userId }, select: { userId: true } });
    await tx.credential.upsert({
      where: { userId },
      create: { userId, passwordHash, updatedBy },
      update: { passwordHash, updatedBy, updatedAt: new Date() },
    });
    const sessionsEnded = await endSessionsOf(tx, userId, options.keepSession);
    return recordPasswordSet(deps, ctx, { userId, reset: had !== null, sessionsEnded }, tx);
  });
}

/** An administrator signs a user out everywhere (but `keepSession`): UserSessionsEnded, unless none was open. */
export async function endSessions(
  deps: CommandDeps,
  ctx: CommandContext,
  input: { userId: string },
  options: { keepSession?: string } = {},
): Promise<{ count: number; result: CommandResult }> {
  return inTransaction(deps.db, async (tx) => {
    const count = await endSessionsOf(tx, input.userId, options.keepSession);
    return { count, result: await recordSessionsEnded(deps, ctx, { userId: input.userId, count }, tx) };
  });
}

/**
 * Ends the session behind a cookie value, recording UserLoggedOut by its user.
 * Signing out never depends on Kafka: if the record fails, the session is
 * deleted anyway and `recorded` is false with the error (the caller logs it).
 */
export async function signOut(
  deps: CommandDeps,
  secret: string | undefined,
  meta: { ip: string | null; userAgent: string | null },
): Promise<{ recorded: boolean; error?: unknown }> {
  const session = await findSession(deps.db, secret);
  if (!session) return { recorded: false };
  const user = await loadLiveUser(deps.db, { id: session.userId });
  try {
    await inTransaction(deps.db, async (tx) => {
      await tx.session.deleteMany({ where: { idHash: session.idHash } });
      if (user) {
        const actor = { kind: "user", userId: user.id, email: user.email, name: user.name } as const;
        await recordLogout(deps, { actor }, { userId: user.id, ip: meta.ip, userAgent: meta.userAgent }, tx);
      }
    });
    return { recorded: user !== null };
  } catch (error) {
    await deps.db.session.deleteMany({ where: { idHash: session.idHash } });
    return { recorded: false, error };
  }
}
