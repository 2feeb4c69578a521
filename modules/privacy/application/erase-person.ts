/**
 * Erasing a person (GDPR art. 17) by crypto-shredding (lib/privacy): in one
 * transaction, under the user's lock, their key is destroyed, their email
 * reservation released, what holds them in clear outside the log purged, the
 * command side's head left without their data, and UserDeleted (if still
 * live) and UserErased appended. If Kafka does not acknowledge, all of it
 * rolls back. The projector then scrubs the read model; the notifiers their
 * own copy.
 */
import { executeOnStream, type CommandContext, type CommandDeps, type CommandResult } from "@/lib/command/execute";
import { parseInput } from "@/lib/command/validate";
import { DomainError } from "@/lib/errors";
import type { PersonalDataKeys } from "@/lib/privacy/key-store";
import { purgePersonalRecords, type PurgeCounts } from "@/lib/privacy/purge";
import { Prisma } from "@/generated/prisma/client";
import type { Db } from "@/lib/db";
import { app } from "@/modules";
import { STREAM } from "@/modules/streams";
import { eraseUserInput } from "@/modules/users/domain/commands";
import { decideUser } from "@/modules/users/domain/decide";
import { userSerde, type UserEvent } from "@/modules/users/domain/events";
import { evolveUser, type UserState } from "@/modules/users/domain/user-state";

export interface ErasureDeps extends CommandDeps {
  personalData: Pick<PersonalDataKeys, "erase">;
}

export interface ErasureResult extends CommandResult {
  purged: PurgeCounts;
  /**
   * Events in the log that carry this person's data in clear (written before encryption,
   * or by a service that does not encrypt), as far as projected: their key cannot erase
   * them. Every view shows them erased; the log itself still holds them (README, Privacy).
   */
  eventsInClear: number;
}

/**
 * `confirmEmail`, when given (the console's form), must be the user's email as the command
 * side holds it: the administrator typed whom they mean to erase.
 */
export async function eraseUser(
  deps: ErasureDeps,
  ctx: CommandContext,
  input: unknown,
  { confirmEmail }: { confirmEmail?: string } = {},
): Promise<ErasureResult> {
  const data = parseInput(eraseUserInput, input);
  if (ctx.actor.kind === "user" && ctx.actor.userId === data.userId) {
    // Their own key would be gone before the erasure event, which they sign as actor, is sealed.
    throw new DomainError("invariant", "You cannot erase your own personal data: ask another administrator.");
  }
  let purged: PurgeCounts | null = null;
  const result = await executeOnStream<UserState, UserEvent>(deps, ctx, {
    stream: STREAM.users,
    serde: userSerde,
    streamId: data.userId,
    decide: (state) => {
      if (confirmEmail !== undefined && state && !state.erasedAt && confirmEmail.trim().toLowerCase() !== state.email.toLowerCase()) {
        throw new DomainError("validation", "The email typed to confirm is not this user's email.", {
          confirmEmail: ["Type this user's email exactly as shown to confirm."],
        });
      }
      return decideUser({ type: "EraseUser", ...data }, state);
    },
    evolve: evolveUser,
    destroysAggregateKey: true,
    async beforeAppend(tx, state) {
      await tx.$executeRaw`DELETE FROM email_reservations WHERE user_id = ${data.userId}::uuid`;
      await deps.personalData.erase(tx, data.userId);
      purged = await purgePersonalRecords(tx, { id: data.userId, email: state?.email ?? null });
    },
  });
  return { ...result, purged: purged!, eventsInClear: await eventsInClear(deps.db, data.userId) };
}

/**
 * Applied events that carry the person's data in clear, in every module's timeline: their own
 * aggregate's events and those they acted in (both indexed), once each.
 */
export async function eventsInClear(db: Db, userId: string): Promise<number> {
  let total = 0;
  for (const m of app.modules) {
    const table = Prisma.raw(`"${m.projection.timeline.table}"`);
    const idColumn = Prisma.raw(`"${m.projection.timeline.idColumn}"`);
    const rows = await db.$queryRaw<{ n: bigint }[]>`
      SELECT count(*) AS n FROM (
        SELECT event_id FROM ${table} WHERE ${idColumn} = ${userId}::uuid AND clear_subjects @> ARRAY[${userId}::uuid]
        UNION
        SELECT event_id FROM ${table} WHERE actor->>'userId' = ${userId} AND clear_subjects @> ARRAY[${userId}::uuid]
      ) AS clear`;
    total += Number(rows[0]?.n ?? 0);
  }
  return total;
}
