/** A role's state: the fold of its events (see modules/users/domain/user-state.ts). */
import { assertNever } from "@/lib/errors";
import { CannotApplyEventError, type FieldChanges } from "@/lib/projection/timeline";
import type { RoleEvent } from "./events";

export interface RoleState {
  id: string;
  name: string;
  description: string;
  /** Sorted. Absent in heads saved before permissions existed: read as none. */
  permissions: string[];
  builtIn: boolean;
  isDeleted: boolean;
  version: number;
  createdAt: string;
  updatedAt: string;
  deletedAt: string | null;
}

export function evolveRole(state: RoleState | null, event: RoleEvent): RoleState {
  if (event.type === "RoleCreated") {
    if (state) throw new CannotApplyEventError(`RoleCreated for existing role ${event.aggregateId}`);
    return {
      id: event.aggregateId,
      name: event.payload.name,
      description: event.payload.description,
      permissions: [...new Set(event.payload.permissions ?? [])].sort(),
      builtIn: event.payload.builtIn ?? false,
      isDeleted: false,
      version: event.sequence,
      createdAt: event.occurredAt,
      updatedAt: event.occurredAt,
      deletedAt: null,
    };
  }
  if (!state) throw new CannotApplyEventError(`${event.type} for unknown role ${event.aggregateId}`);
  switch (event.type) {
    case "RoleUpdated": {
      const { name = state.name, description = state.description } = event.payload;
      const permissions = event.payload.permissions
        ? [...new Set(event.payload.permissions)].sort()
        : (state.permissions ?? []);
      return { ...state, name, description, permissions, version: event.sequence, updatedAt: event.occurredAt };
    }
    case "RoleDeleted":
      return {
        ...state,
        isDeleted: true,
        version: event.sequence,
        updatedAt: event.occurredAt,
        deletedAt: event.occurredAt,
      };
    default:
      return assertNever(event, "role event");
  }
}

export const foldRole = (events: readonly RoleEvent[], initial: RoleState | null = null) =>
  events.reduce<RoleState | null>((state, event) => evolveRole(state, event), initial);

export function roleChanges(before: RoleState | null, after: RoleState): FieldChanges {
  const changes: FieldChanges = {};
  for (const field of ["name", "description"] as const) {
    if (before?.[field] !== after[field]) changes[field] = { before: before?.[field] ?? null, after: after[field] };
  }
  const permissionsBefore = (before?.permissions ?? []).join(", ");
  const permissionsAfter = after.permissions.join(", ");
  if (permissionsBefore !== permissionsAfter && (before || permissionsAfter)) {
    changes.permissions = { before: before ? permissionsBefore : null, after: permissionsAfter };
  }
  return changes;
}
