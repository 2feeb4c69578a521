/**
 * One role given to or taken from many users at once (the console's bulk actions, issue 15: a bulk
 * assignment to 10,000 users took 156 s as 10,000 commands one after another).
 *
 * The users are worked through in batches of BATCH, each one transaction (`executeOnStreams`):
 *
 * 1. `beforeLock`: the role's head row is read and held shared (lock order everywhere: role, then
 *    users), the caller's standing to hand it out is checked, and an assignment refuses a role that
 *    is deleted or whose deletion has begun (role-deletion.ts), as `assignRole` does;
 * 2. the users' head rows are locked in id order, each user's own decision is taken on its own
 *    state (`decideUser`, the same rule as the single command): a user who already has the role (or,
 *    for an unassignment, does not) is `unchanged`, a deleted or unknown user `failed` (not found);
 * 3. the heads are saved in one statement and the batch's events appended in one produce request;
 *    the commit follows the ack; between two batches the commands running in this process go
 *    first (`yieldToCommands`).
 *
 * Each user's outcome is exact: a batch is all or nothing, and once one fails (the role was deleted
 * meanwhile, Kafka unreachable) the users of it and of every later batch are reported failed with
 * that reason, and those of the committed batches keep their changes. If the very first batch fails,
 * nothing was done and the error is thrown as it is, like a single command's.
 */
import { randomUUID } from "node:crypto";
import { assertCanGrant } from "@/lib/auth/permissions";
import {
  executeOnStreams,
  lastPerPartition,
  pacedBatchSize,
  readStreamShared,
  yieldToCommands,
  type CommandContext,
  type CommandDeps,
  type CommandResult,
} from "@/lib/command/execute";
import { parseInput } from "@/lib/command/validate";
import { invariant, isDomainError, type DomainErrorCode } from "@/lib/errors";
import { logUnexpected } from "@/lib/log";
import type { AppendedEvent } from "@/lib/kafka/producer";
import { STREAM } from "@/modules/streams";
import { changeRoleOfUsersInput } from "../domain/commands";
import { decideUser } from "../domain/decide";
import { userSerde, type UserEvent } from "../domain/events";
import { evolveUser, type UserState } from "../domain/user-state";
import { holdRoleToAssign, type RoleHead } from "./user-commands";

/** Users per transaction and produce request: as for a role's deletion, one batch holds others for a few tens of ms. */
export const BULK_ROLE_BATCH = 500;

export type UserRoleChange =
  | { userId: string; outcome: "changed" | "unchanged" }
  | { userId: string; outcome: "failed"; code: DomainErrorCode | "unexpected"; message: string };

export interface RoleOfUsersChanged extends CommandResult {
  role: { id: string; name: string };
  /** One entry per distinct user id asked for, in the order asked. */
  results: UserRoleChange[];
}

export async function changeRoleOfUsers(
  deps: CommandDeps,
  ctx: CommandContext,
  input: unknown,
  options: {
    batchSize?: number;
    /** As a role's deletion paces itself (role-deletion.ts, RoleDeletionOptions); off for tests that count batches. */
    pace?: boolean;
    onBatch?: (done: number, total: number) => void | Promise<void>;
  } = {},
): Promise<RoleOfUsersChanged> {
  const { roleId, change, userIds } = parseInput(changeRoleOfUsersInput, input);
  const ids = [...new Set(userIds.map((id) => id.toLowerCase()))];
  const batchSize = options.batchSize ?? BULK_ROLE_BATCH;
  // One correlation id for the whole change: the audit timeline can tell these events belong together.
  const context = { ...ctx, correlationId: ctx.correlationId ?? randomUUID() };
  const outcomes = new Map<string, UserRoleChange>();
  const appended: AppendedEvent<UserEvent>[] = [];
  let role: RoleHead | null = null;

  for (let i = 0, size = 0; i < ids.length; i += size) {
    size = options.pace === false ? batchSize : pacedBatchSize(batchSize);
    const batch = ids.slice(i, i + size);
    const decided = new Map<string, UserRoleChange>();
    try {
      const events = await executeOnStreams<UserState, UserEvent>(deps, context, {
        stream: STREAM.users,
        serde: userSerde,
        streamIds: batch,
        beforeLock: async (tx) => {
          if (change === "assign") {
            role = await holdRoleToAssign(tx, context, roleId);
            // Refused once for the batch, not once per user (decideUser would say the same).
            if (!role || role.isDeleted) throw invariant("That role does not exist (it may have been deleted).", { roleId: ["Role not found."] });
            return;
          }
          role = await readStreamShared<RoleHead>(tx, STREAM.roles, roleId);
          if (role) {
            // Taking a role away needs the same standing as handing it out.
            assertCanGrant(context.grantable, role.permissions ?? [], `unassign the role "${role.name}"`);
          }
        },
        decide: (userId, state) => {
          try {
            const made =
              change === "assign"
                ? decideUser({ type: "AssignRole", userId, roleId, role }, state)
                : decideUser({ type: "UnassignRole", reason: "unassigned", userId, roleId }, state);
            decided.set(userId, { userId, outcome: made.length ? "changed" : "unchanged" });
            return made;
          } catch (error) {
            if (!isDomainError(error)) throw error;
            decided.set(userId, { userId, outcome: "failed", code: error.code, message: error.message });
            return [];
          }
        },
        evolve: evolveUser,
        // Not a user's id (a role's, say): that user is not found, the others go on.
        onOtherType: (id) => decided.set(id, { userId: id, outcome: "failed", code: "not_found", message: `User ${id} was not found.` }),
      });
      // Committed: this batch's outcomes stand.
      for (const [id, outcome] of decided) outcomes.set(id, outcome);
      appended.push(...events);
    } catch (error) {
      if (i === 0) throw error; // nothing done: refused like a single command
      const code = isDomainError(error) ? error.code : "unexpected";
      const message = isDomainError(error)
        ? error.message
        : `The change stopped here (error id ${logUnexpected("bulk role change stopped midway", error, { roleId, done: i, total: ids.length })}); these users were not changed. Try them again.`;
      for (const id of ids.slice(i)) outcomes.set(id, { userId: id, outcome: "failed", code, message });
      break;
    }
    await options.onBatch?.(Math.min(i + size, ids.length), ids.length);
    if (options.pace !== false) await yieldToCommands();
  }

  const named = role as RoleHead | null;
  return {
    aggregateId: roleId,
    version: 0,
    role: { id: roleId, name: named?.name ?? roleId },
    results: ids.map((id) => outcomes.get(id)!),
    // The last event on each partition is all a read-your-writes wait needs.
    events: [...lastPerPartition(appended).values()],
  };
}
