import { assertNever, conflict, invariant, notFound } from "@/lib/errors";
import type { NewEvent } from "@/lib/events/envelope";
import type { RoleCommand } from "./commands";
import type { RoleEvent } from "./events";
import type { RoleState } from "./role-state";

export type NewRoleEvent = NewEvent<RoleEvent>;

export function decideRole(command: RoleCommand, state: RoleState | null): NewRoleEvent[] {
  if (command.type === "CreateRole") {
    if (state) throw invariant(`Role ${command.roleId} already exists.`);
    return [{ type: "RoleCreated", payload: { name: command.name, description: command.description } }];
  }
  if (!state || state.isDeleted) throw notFound(`Role ${command.roleId}`);
  if (command.expectedVersion !== state.version) {
    throw conflict(`Role "${state.name}"`, command.expectedVersion, state.version);
  }
  switch (command.type) {
    case "UpdateRole": {
      const payload: { name?: string; description?: string } = {};
      if (command.name !== undefined && command.name !== state.name) payload.name = command.name;
      if (command.description !== undefined && command.description !== state.description) {
        payload.description = command.description;
      }
      return Object.keys(payload).length ? [{ type: "RoleUpdated", payload }] : [];
    }
    case "DeleteRole":
      return [{ type: "RoleDeleted", payload: {} }];
    default:
      return assertNever(command, "role command");
  }
}
