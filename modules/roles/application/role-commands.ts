/** The role commands, usable without Next.js (see modules/users/application/user-commands.ts). */
import { randomUUID } from "node:crypto";
import {
  executeOnStream,
  inTransaction,
  lockStream,
  readStreamShared,
  type CommandContext,
  type CommandDeps,
  type CommandResult,
  type Tx,
} from "@/lib/command/execute";
import { parseInput } from "@/lib/command/validate";
import { assertCanGrant, type Permission } from "@/lib/auth/permissions";
import { STREAM } from "@/modules/streams";
import {
  beginRoleDeletion,
  findRoleMembers,
  finishRoleDeletion,
  recordRoleDeletionError,
  unassignDeletedRoleFromMembers,
  type RoleDeletionOptions,
  type MembersUnassigned,
} from "@/modules/users/application/role-deletion";
import { invariant } from "@/lib/errors";
import { createRoleInput, deleteRoleInput, updateRoleInput, type RoleCommand } from "../domain/commands";
import { decideRole } from "../domain/decide";
import { roleSerde, type RoleEvent } from "../domain/events";
import { evolveRole, type RoleState } from "../domain/role-state";

function onRole(deps: CommandDeps, ctx: CommandContext, command: RoleCommand, tx?: Tx, minted = false): Promise<CommandResult> {
  return executeOnStream<RoleState, RoleEvent>(
    deps,
    ctx,
    {
      stream: STREAM.roles,
      serde: roleSerde,
      streamId: command.roleId,
      decide: (state) => decideRole(command, state),
      evolve: evolveRole,
      minted,
    },
    tx,
  );
}

export async function createRole(deps: CommandDeps, ctx: CommandContext, input: unknown) {
  const data = parseInput(createRoleInput, input);
  assertCanGrant(ctx.grantable, data.permissions, `create a role with these permissions`);
  // A new id: no head to lock (a built-in role's fixed id below is locked as usual).
  return onRole(deps, ctx, { type: "CreateRole", roleId: (deps.newId ?? randomUUID)(), ...data }, undefined, true);
}

/** The roles every installation starts with (lib/auth/permissions.ts); creating one that exists is a no-op. */
export async function ensureBuiltInRole(
  deps: CommandDeps,
  ctx: CommandContext,
  role: { id: string; name: string; description: string; permissions: readonly Permission[] },
) {
  const created = await onRole(deps, ctx, {
    type: "CreateRole",
    roleId: role.id,
    name: role.name,
    description: role.description,
    permissions: [...role.permissions],
    builtIn: true,
    ifAbsent: true,
  });
  if (created.events.length) return created;
  // A permission added in a later release (e.g. users:erase) reaches an existing installation's
  // built-in role as a RoleUpdated by the system, recorded like any other change.
  return onRole(deps, ctx, { type: "GrantBuiltInPermissions", roleId: role.id, permissions: [...role.permissions] });
}

export async function updateRole(deps: CommandDeps, ctx: CommandContext, input: unknown) {
  const data = parseInput(updateRoleInput, input);
  if (data.permissions && ctx.grantable) {
    // Only permissions being added need standing; dropping one you lack is allowed (and so is leaving it).
    const current = await readStreamShared<RoleState>(deps.db, STREAM.roles, data.roleId);
    const added = data.permissions.filter((p) => !(current?.permissions ?? []).includes(p));
    assertCanGrant(ctx.grantable, added, `give a role these permissions`);
  }
  return onRole(deps, ctx, { type: "UpdateRole", ...data });
}

export interface DeleteRoleResult extends CommandResult {
  /** The RoleUnassignedFromUser events this run appended, one per member (a resumed run: the rest). */
  unassigned: MembersUnassigned;
}

/**
 * Deletes a role: first every live member loses it (one RoleUnassignedFromUser per member,
 * reason "role-deleted", in that user's stream and timeline), then RoleDeleted.
 *
 * At any size (issue 15: 100,000 members of 1,000,000 users) and without one long transaction:
 * a short first transaction, holding the role's head row, validates the command and closes the
 * role to new members (modules/users/application/role-deletion.ts); the members lose it in
 * batches of a few hundred, each batch one transaction and one produce request, counted for the
 * role's page; the last transaction, holding the role's head row again, checks that nobody holds
 * it any more and appends RoleDeleted. If it stops midway, what was done stays done, the role
 * stays closed to assignment, and running the delete again finishes the job.
 */
export async function deleteRole(
  deps: CommandDeps,
  ctx: CommandContext,
  input: unknown,
  options: RoleDeletionOptions = {},
): Promise<DeleteRoleResult> {
  const data = parseInput(deleteRoleInput, input);
  const correlationId = await inTransaction(
    deps.db,
    async (tx) => {
      const head = await lockStream<RoleState>(tx, STREAM.roles, data.roleId);
      // Validates existence, built-in and expectedVersion before touching any member.
      decideRole({ type: "DeleteRole", ...data }, head?.state ?? null);
      return beginRoleDeletion(tx, data.roleId, ctx.correlationId ?? randomUUID());
    },
  );
  const shared: CommandContext = { ...ctx, correlationId };
  try {
    const unassigned = await unassignDeletedRoleFromMembers(deps, shared, data.roleId, options);
    const result = await inTransaction(
      deps.db,
      async (tx) => {
        const head = await lockStream<RoleState>(tx, STREAM.roles, data.roleId);
        // Nobody can have gained the role since it was closed; a member left here would mean a
        // writer that bypassed the command side (the caller runs the delete again).
        if ((await findRoleMembers(tx, data.roleId, 1)).length > 0) {
          throw invariant("Some users still hold this role: run the deletion again to finish it.");
        }
        // The version the deletion began with was checked then; an edit since (a rename) does not undo it.
        const deleted = await onRole(deps, shared, { type: "DeleteRole", roleId: data.roleId, expectedVersion: head?.version ?? 0 }, tx);
        await finishRoleDeletion(tx, data.roleId);
        return deleted;
      },
    );
    return { ...result, unassigned };
  } catch (error) {
    await recordRoleDeletionError(deps, data.roleId, (error as Error).message);
    throw error;
  }
}
