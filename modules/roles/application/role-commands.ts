/** The role commands, usable without Next.js (see modules/users/application/user-commands.ts). */
import { randomUUID } from "node:crypto";
import {
  executeOnStream,
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
import { unassignDeletedRole } from "@/modules/users/application/user-commands";
import { createRoleInput, deleteRoleInput, updateRoleInput, type RoleCommand } from "../domain/commands";
import { decideRole } from "../domain/decide";
import { roleSerde, type RoleEvent } from "../domain/events";
import { evolveRole, type RoleState } from "../domain/role-state";

function onRole(deps: CommandDeps, ctx: CommandContext, command: RoleCommand, tx?: Tx): Promise<CommandResult> {
  return executeOnStream<RoleState, RoleEvent>(
    deps,
    ctx,
    {
      stream: STREAM.roles,
      serde: roleSerde,
      streamId: command.roleId,
      decide: (state) => decideRole(command, state),
      evolve: evolveRole,
    },
    tx,
  );
}

export async function createRole(deps: CommandDeps, ctx: CommandContext, input: unknown) {
  const data = parseInput(createRoleInput, input);
  assertCanGrant(ctx.grantable, data.permissions, `create a role with these permissions`);
  return onRole(deps, ctx, { type: "CreateRole", roleId: (deps.newId ?? randomUUID)(), ...data });
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
  /** The RoleUnassignedFromUser events published first, one per member. */
  unassigned: CommandResult[];
}

/**
 * Deletes a role: first every live member loses it (one RoleUnassignedFromUser
 * per member, reason "role-deleted", in that user's stream and timeline), then
 * RoleDeleted. The role's head row stays locked throughout, so no assignment
 * can slip in between. Each unassignment commits on its own: if Kafka fails
 * midway, the members already unassigned really are, the role still exists,
 * and running the delete again finishes the job.
 */
export async function deleteRole(deps: CommandDeps, ctx: CommandContext, input: unknown): Promise<DeleteRoleResult> {
  const data = parseInput(deleteRoleInput, input);
  const shared: CommandContext = { ...ctx, correlationId: ctx.correlationId ?? randomUUID() };
  return deps.db.$transaction(
    async (tx) => {
      const head = await lockStream<RoleState>(tx, STREAM.roles, data.roleId);
      // Validates existence and expectedVersion before touching any member.
      decideRole({ type: "DeleteRole", ...data }, head?.state ?? null);
      const members = await tx.$queryRaw<{ id: string }[]>`
        SELECT id::text FROM streams
        WHERE type = ${STREAM.users.headType} AND (state->>'isDeleted')::boolean = false AND state->'roles' ? ${data.roleId}
        ORDER BY id`;
      const unassigned: CommandResult[] = [];
      for (const member of members) {
        unassigned.push(await unassignDeletedRole(deps, shared, member.id, data.roleId));
      }
      const result = await onRole(deps, shared, { type: "DeleteRole", ...data }, tx);
      return { ...result, unassigned };
    },
    { maxWait: 5_000, timeout: 120_000 },
  );
}
