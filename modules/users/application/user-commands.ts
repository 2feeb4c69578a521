/**
 * The user commands, usable without Next.js (server actions, the HTTP API,
 * tests and benchmarks all call these). Each one: validate → lock → decide →
 * append → commit (lib/command/execute.ts).
 */
import { invariant } from "@/lib/errors";
import {
  executeOnStream,
  inTransaction,
  readStreamShared,
  type CommandContext,
  type CommandDeps,
  type CommandResult,
  type Tx,
} from "@/lib/command/execute";
import { parseInput } from "@/lib/command/validate";
import type { SqlTx } from "@/lib/sql-tx";
import { assertCanGrant } from "@/lib/auth/permissions";
import { STREAM } from "@/modules/streams";
import {
  assignRoleInput,
  createUserInput,
  deleteUserInput,
  recordLoginFailureInput,
  recordLoginInput,
  recordLogoutInput,
  recordPasswordSetInput,
  recordSessionsEndedInput,
  unassignRoleInput,
  updateUserInput,
  type RoleRef,
  type UserCommand,
} from "../domain/commands";
import { decideUser } from "../domain/decide";
import { userSerde, type UserEvent } from "../domain/events";
import { evolveUser, type UserState } from "../domain/user-state";
import { isRoleBeingDeleted } from "./role-deletion";

/**
 * What this module reads of a role's head row (the roles module's state, of
 * which it needs only this): the roles module depends on users, not the reverse.
 */
export type RoleHead = RoleRef & { permissions?: string[] };

/**
 * Before an assignment (one user's or a bulk change's), in its transaction: the role's head, held
 * shared until the commit (lock order everywhere: role, then users), so a concurrent DeleteRole
 * waits for the assignment and then unassigns it. Refuses a role the caller could not grant, and
 * one whose deletion has begun: that deletion closed it under the role's exclusive lock, which
 * this share lock waited for (role-deletion.ts). Null for a role that does not exist.
 */
export async function holdRoleToAssign(tx: Tx, ctx: CommandContext, roleId: string): Promise<RoleHead | null> {
  const role = await readStreamShared<RoleHead>(tx, STREAM.roles, roleId);
  if (role) assertCanGrant(ctx.grantable, role.permissions ?? [], `assign the role "${role.name}"`);
  if (role && (await isRoleBeingDeleted(tx, roleId))) {
    throw invariant(`The role "${role.name}" is being deleted.`, { roleId: ["This role is being deleted."] });
  }
  return role;
}

function onUser(deps: CommandDeps, ctx: CommandContext, command: UserCommand, tx?: Tx, minted = false): Promise<CommandResult> {
  return executeOnStream<UserState, UserEvent>(
    deps,
    ctx,
    {
      stream: STREAM.users,
      serde: userSerde,
      streamId: command.userId,
      decide: (state) => decideUser(command, state),
      evolve: evolveUser,
      beforeAppend: maintainEmailReservation,
      minted,
    },
    tx,
  );
}

export async function createUser(deps: CommandDeps, ctx: CommandContext, input: unknown) {
  const data = parseInput(createUserInput, input);
  // A new person's id comes with their key already made (lib/privacy/key-store.ts, newSubject).
  // Minted here, so no head can exist yet: the command takes no lock (one round trip fewer).
  const userId = deps.newId ? deps.newId() : await deps.appender.newSubject();
  return onUser(deps, ctx, { type: "CreateUser", userId, ...data }, undefined, true);
}

export async function updateUser(deps: CommandDeps, ctx: CommandContext, input: unknown) {
  return onUser(deps, ctx, { type: "UpdateUser", ...parseInput(updateUserInput, input) });
}

export async function deleteUser(deps: CommandDeps, ctx: CommandContext, input: unknown) {
  const data = parseInput(deleteUserInput, input);
  if (ctx.grantable) {
    // Deleting someone takes their access away: it needs the standing to take away each of their roles.
    const user = await readStreamShared<UserState>(deps.db, STREAM.users, data.userId);
    for (const roleId of Object.keys(user?.roles ?? {})) {
      const role = await readStreamShared<RoleHead>(deps.db, STREAM.roles, roleId);
      if (role) assertCanGrant(ctx.grantable, role.permissions ?? [], `delete ${user?.email ?? "this user"}, who holds the role "${role.name}"`);
    }
  }
  return onUser(deps, ctx, { type: "DeleteUser", ...data });
}

export async function recordLogin(deps: CommandDeps, ctx: CommandContext, input: unknown) {
  return onUser(deps, ctx, { type: "RecordLogin", ...parseInput(recordLoginInput, input) });
}

/*
 * The security records (issue 13). Like RecordLogin they carry no
 * expectedVersion: a sign-in, a sign-out or a password reset waits for the
 * user's head row like any append, but never fails because an admin edited
 * the profile meanwhile. The access module runs the first two inside its own
 * transaction (`tx`), with the PostgreSQL change they record.
 */
export async function recordPasswordSet(deps: CommandDeps, ctx: CommandContext, input: unknown, tx?: Tx) {
  return onUser(deps, ctx, { type: "RecordPasswordSet", ...parseInput(recordPasswordSetInput, input) }, tx);
}

export async function recordSessionsEnded(deps: CommandDeps, ctx: CommandContext, input: unknown, tx?: Tx) {
  return onUser(deps, ctx, { type: "RecordSessionsEnded", ...parseInput(recordSessionsEndedInput, input) }, tx);
}

export async function recordLoginFailure(deps: CommandDeps, ctx: CommandContext, input: unknown) {
  return onUser(deps, ctx, { type: "RecordLoginFailure", ...parseInput(recordLoginFailureInput, input) });
}

export async function recordLogout(deps: CommandDeps, ctx: CommandContext, input: unknown, tx?: Tx) {
  return onUser(deps, ctx, { type: "RecordLogout", ...parseInput(recordLogoutInput, input) }, tx);
}

export async function assignRole(deps: CommandDeps, ctx: CommandContext, input: unknown) {
  const data = parseInput(assignRoleInput, input);
  return inTransaction(
    deps.db,
    async (tx) => {
      const role = await holdRoleToAssign(tx, ctx, data.roleId);
      return onUser(deps, ctx, { type: "AssignRole", ...data, role }, tx);
    },
  );
}

export async function unassignRole(deps: CommandDeps, ctx: CommandContext, input: unknown) {
  const data = parseInput(unassignRoleInput, input);
  if (ctx.grantable) {
    // Taking a role away needs the same standing as handing it out.
    const role = await readStreamShared<RoleHead>(deps.db, STREAM.roles, data.roleId);
    if (role) assertCanGrant(ctx.grantable, role.permissions ?? [], `unassign the role "${role.name}"`);
  }
  return onUser(deps, ctx, { type: "UnassignRole", reason: "unassigned", ...data });
}

/**
 * Email is unique among live users, case-insensitively. The reservation row's
 * primary key is the arbiter: of two concurrent creates with one email, the
 * second insert waits for the first transaction and then finds the row taken.
 */
async function maintainEmailReservation(tx: SqlTx, state: UserState | null, events: UserEvent[]) {
  for (const event of events) {
    switch (event.type) {
      case "UserCreated":
        await reserveEmail(tx, event.payload.email, event.aggregateId);
        break;
      case "UserUpdated":
        if (event.payload.email !== undefined && event.payload.email.toLowerCase() !== state?.email.toLowerCase()) {
          await tx.$executeRaw`DELETE FROM email_reservations WHERE user_id = ${event.aggregateId}::uuid`;
          await reserveEmail(tx, event.payload.email, event.aggregateId);
        }
        break;
      case "UserDeleted":
        await tx.$executeRaw`DELETE FROM email_reservations WHERE user_id = ${event.aggregateId}::uuid`;
        break;
      default:
        break;
    }
  }
}

async function reserveEmail(tx: SqlTx, email: string, userId: string) {
  const inserted = await tx.$queryRaw<{ email: string }[]>`
    INSERT INTO email_reservations (email, user_id) VALUES (${email.toLowerCase()}, ${userId}::uuid)
    ON CONFLICT (email) DO NOTHING RETURNING email`;
  if (inserted.length === 0) {
    throw invariant(`A user with the email ${email} already exists.`, {
      email: ["This email is already used by another user."],
    });
  }
}
