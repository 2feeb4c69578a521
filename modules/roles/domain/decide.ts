import { assertNever, conflict, invariant, notFound } from "@/lib/errors";
import type { NewEvent } from "@/lib/events/envelope";
import type { RoleCommand } from "./commands";
import type { RoleCreated, RoleEvent, RoleUpdated } from "./events";

type RoleCreatedPayload = RoleCreated["payload"];
import type { RoleState } from "./role-state";

export type NewRoleEvent = NewEvent<RoleEvent>;

export function decideRole(command: RoleCommand, state: RoleState | null): NewRoleEvent[] {
  if (command.type === "CreateRole") {
    if (state && command.ifAbsent) return [];
    if (state) throw invariant(`Role ${command.roleId} already exists.`);
    const payload: RoleCreatedPayload = { name: command.name, description: command.description };
    if (command.permissions.length) payload.permissions = [...new Set(command.permissions)].sort();
    if (command.builtIn) payload.builtIn = true;
    return [{ type: "RoleCreated", payload }];
  }
  if (!state || state.isDeleted) throw notFound(`Role ${command.roleId}`);
  if (command.type === "GrantBuiltInPermissions") {
    if (!state.builtIn) throw invariant(`"${state.name}" is not a built-in role.`);
    const next = [...new Set([...(state.permissions ?? []), ...command.permissions])].sort();
    return next.join() === [...(state.permissions ?? [])].sort().join() ? [] : [{ type: "RoleUpdated", payload: { permissions: next } }];
  }
  if (command.expectedVersion !== state.version) {
    throw conflict(`Role "${state.name}"`, command.expectedVersion, state.version);
  }
  switch (command.type) {
    case "UpdateRole": {
      const payload: RoleUpdated["payload"] = {};
      if (command.name !== undefined && command.name !== state.name) payload.name = command.name;
      if (command.description !== undefined && command.description !== state.description) {
        payload.description = command.description;
      }
      if (command.permissions !== undefined) {
        const next = [...new Set(command.permissions)].sort();
        if (next.join() !== (state.permissions ?? []).join()) payload.permissions = next;
      }
      if (state.builtIn && (payload.name !== undefined || payload.permissions !== undefined)) {
        throw invariant(`"${state.name}" is a built-in role: its name and permissions cannot change.`, {
          ...(payload.name !== undefined ? { name: ["A built-in role cannot be renamed."] } : {}),
          ...(payload.permissions !== undefined ? { permissions: ["A built-in role's permissions are fixed."] } : {}),
        });
      }
      return Object.keys(payload).length ? [{ type: "RoleUpdated", payload }] : [];
    }
    case "DeleteRole":
      if (state.builtIn) throw invariant(`"${state.name}" is a built-in role and cannot be deleted.`);
      return [{ type: "RoleDeleted", payload: {} }];
    default:
      return assertNever(command, "role command");
  }
}
