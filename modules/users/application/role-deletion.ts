/**
 * A deleted role's members lose it (issue 15: a role held by 100,000 of 1,000,000 users).
 *
 * The roles module's DeleteRole drives it (modules/roles/application/role-commands.ts):
 *
 * 1. `beginRoleDeletion`, in a short transaction holding the role's head row exclusively: a
 *    `role_deletions` row closes the role to new members. `assignRole` holds the role's head row
 *    shared and refuses a role with such a row, so an assignment either committed before (and its
 *    member is found below) or is refused: the same guarantee as holding the role's lock through
 *    the whole deletion, without holding it (nor one transaction) for a minute.
 * 2. `unassignDeletedRoleFromMembers`: the members, found on the command side's head rows through
 *    the GIN index on their roles (`roles ? role id`; `roles` is `state->'roles'`, a column
 *    PostgreSQL generates, so a head update that leaves the roles alone can be HOT), lose the
 *    role in batches of BATCH users: one transaction per batch locks their heads, decides for
 *    each (a member who lost the role or was deleted meanwhile gets no event), saves the heads
 *    in one statement, counts the batch in `role_deletions.done` and appends its
 *    RoleUnassignedFromUser events (reason "role-deleted") in one produce request; it commits
 *    after the ack. Other commands wait for one batch at most, and between two batches the
 *    deletion lets the commands running in this process finish first (`yieldToCommands`).
 * 3. The roles module then appends RoleDeleted and `finishRoleDeletion` marks the row, in one
 *    transaction under the role's exclusive lock, after checking that no member is left.
 *
 * If it stops midway (Kafka unreachable, the process killed), the batches committed are done and
 * counted, the role stays closed to new members, and running the deletion again finishes it with
 * the same correlation id: a member already unassigned gets nothing twice (decided on the locked head).
 */
import type { CommandContext, CommandDeps, Tx } from "@/lib/command/execute";
import { executeOnStreams, lastPerPartition, pacedBatchSize, yieldToCommands } from "@/lib/command/execute";
import type { AppendedEvent } from "@/lib/kafka/producer";
import { STREAM } from "@/modules/streams";
import { decideUser } from "../domain/decide";
import { userSerde, type UserEvent } from "../domain/events";
import { evolveUser, type UserState } from "../domain/user-state";

/** Members per transaction and produce request: about 0.5 MB of sealed events, a few tens of ms of locks. */
export const ROLE_DELETION_BATCH = 500;

export interface MembersUnassigned {
  /** RoleUnassignedFromUser events appended by this run. */
  count: number;
  userIds: string[];
  /** The last event appended on each partition: what a read-your-writes wait needs. */
  lastPerPartition: AppendedEvent<UserEvent>[];
}

/**
 * Closes the role to new members, inside the deletion's first transaction (under the role's
 * exclusive lock). Returns the correlation id of the deletion: an unfinished earlier run's, so a
 * resumed deletion's events all share one.
 */
export async function beginRoleDeletion(tx: Tx, roleId: string, correlationId: string): Promise<string> {
  const rows = await tx.$queryRaw<{ correlation_id: string }[]>`
    INSERT INTO role_deletions (role_id, correlation_id) VALUES (${roleId}::uuid, ${correlationId})
    ON CONFLICT (role_id) DO UPDATE SET updated_at = now(), error = NULL
    RETURNING correlation_id`;
  return rows[0]!.correlation_id;
}

/** Whether a deletion of the role has begun (assignRole refuses the role then). */
export async function isRoleBeingDeleted(tx: Tx, roleId: string): Promise<boolean> {
  const rows = await tx.$queryRaw<{ found: number }[]>`
    SELECT 1 AS found FROM role_deletions WHERE role_id = ${roleId}::uuid AND finished_at IS NULL`;
  return rows.length > 0;
}

/** The live users whose head says they hold the role (the GIN index on `roles`, i.e. `state->'roles'`), in id order. */
export async function findRoleMembers(tx: Pick<Tx, "$queryRaw">, roleId: string, limit?: number): Promise<string[]> {
  const rows = limit
    ? await tx.$queryRaw<{ id: string }[]>`
        SELECT id::text FROM streams
        WHERE roles ? ${roleId} AND type = ${STREAM.users.headType} AND NOT coalesce((state->>'isDeleted')::boolean, false)
        LIMIT ${limit}`
    : await tx.$queryRaw<{ id: string }[]>`
        SELECT id::text FROM streams
        WHERE roles ? ${roleId} AND type = ${STREAM.users.headType} AND NOT coalesce((state->>'isDeleted')::boolean, false)
        ORDER BY id`;
  return rows.map((r) => r.id);
}

export interface RoleDeletionOptions {
  /** Members per batch on a quiet console (ROLE_DELETION_BATCH). */
  batchSize?: number;
  /**
   * Pacing (default on): a fifth of the batch while other commands are arriving in this process,
   * and those running go first between two batches (lib/command/execute.ts, pacedBatchSize and
   * yieldToCommands). Off: every batch is `batchSize` (what a test that counts batches needs).
   */
  pace?: boolean;
  /** Told after each committed batch. */
  onBatch?: (done: number, total: number) => void;
}

/**
 * Every live member loses the role, in batches (see the file's header). `ctx.correlationId`
 * should be the deletion's (beginRoleDeletion). `onBatch` is told after each committed batch.
 */
export async function unassignDeletedRoleFromMembers(
  deps: CommandDeps,
  ctx: CommandContext,
  roleId: string,
  options: RoleDeletionOptions = {},
): Promise<MembersUnassigned> {
  const batchSize = options.batchSize ?? ROLE_DELETION_BATCH;
  const userIds: string[] = [];
  const last = new Map<string, AppendedEvent<UserEvent>>();
  // Found once (one index scan), then worked through; a second pass catches anyone the first missed
  // (none should be: the role is closed to new members before the first scan).
  for (let pass = 0; pass < 3; pass++) {
    const members = await findRoleMembers(deps.db, roleId);
    if (members.length === 0) break;
    await deps.db.$executeRaw`
      UPDATE role_deletions SET total = done + ${members.length}, updated_at = now() WHERE role_id = ${roleId}::uuid`;
    for (let i = 0, size = 0; i < members.length; i += size) {
      size = options.pace === false ? batchSize : pacedBatchSize(batchSize);
      const appended = await executeOnStreams<UserState, UserEvent>(deps, ctx, {
        stream: STREAM.users,
        serde: userSerde,
        streamIds: members.slice(i, i + size),
        decide: (userId, state) =>
          !state || state.isDeleted ? [] : decideUser({ type: "UnassignRole", reason: "role-deleted", userId, roleId }, state),
        evolve: evolveUser,
        beforeAppend: async (tx, events) => {
          await tx.$executeRaw`
            UPDATE role_deletions SET done = done + ${events.length}, updated_at = now() WHERE role_id = ${roleId}::uuid`;
        },
      });
      for (const a of appended) userIds.push(a.event.aggregateId);
      lastPerPartition(appended, last);
      options.onBatch?.(Math.min(i + size, members.length), members.length);
      // Other admins' commands go first: the deletion has time to spare, their answers do not.
      if (options.pace !== false) await yieldToCommands();
    }
  }
  return { count: userIds.length, userIds, lastPerPartition: [...last.values()] };
}

/** Records why a deletion stopped (best effort: shown on the role's page until it is run again). */
export async function recordRoleDeletionError(deps: CommandDeps, roleId: string, message: string): Promise<void> {
  await deps.db.$executeRaw`
    UPDATE role_deletions SET error = ${message.slice(0, 500)}, updated_at = now() WHERE role_id = ${roleId}::uuid`.catch(() => undefined);
}

/** In RoleDeleted's transaction, under the role's exclusive lock. */
export async function finishRoleDeletion(tx: Tx, roleId: string): Promise<void> {
  await tx.$executeRaw`
    UPDATE role_deletions SET finished_at = now(), updated_at = now(), error = NULL WHERE role_id = ${roleId}::uuid`;
}
