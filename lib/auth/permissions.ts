/**
 * What a signed-in administrator or an API token may do. Permissions are
 * carried by roles (RoleCreated / RoleUpdated payloads), so who could do what,
 * and since when, is in the log like every other change. Pure: no I/O.
 */
import { z } from "zod";
import { DomainError } from "@/lib/errors";

export const PERMISSIONS = {
  "users:read": "See users, roles, timelines and the activity feed",
  "users:write": "Create, edit and delete users, assign roles, set passwords",
  "users:erase": "Erase a person's personal data for good (crypto-shredding)",
  "roles:write": "Create, edit and delete roles and their permissions",
  "tokens:manage": "Create and revoke API tokens",
  "ops:manage": "Operate the system: health, dead letters, rebuilds",
} as const;

export type Permission = keyof typeof PERMISSIONS;
export const ALL_PERMISSIONS = Object.keys(PERMISSIONS) as Permission[];

export const permissionSchema = z.enum(ALL_PERMISSIONS as [Permission, ...Permission[]], {
  error: (issue) => `Unknown permission ${JSON.stringify(issue.input)}.`,
});

export const isPermission = (value: string): value is Permission => value in PERMISSIONS;

/** The roles every installation starts with, created through the normal RoleCreated path. */
export const BUILT_IN_ROLES = {
  admin: {
    id: "00000000-0000-4000-8000-00000000ad01",
    name: "admin",
    description: "Built-in: every permission.",
    permissions: ALL_PERMISSIONS,
  },
  viewer: {
    id: "00000000-0000-4000-8000-00000000ad02",
    name: "viewer",
    description: "Built-in: reads everything, changes nothing.",
    permissions: ["users:read"] as Permission[],
  },
} as const;

/**
 * Permissions `holder` lacks among `wanted`. Nobody grants what they do not
 * hold: assigning a role or adding a permission to one needs every permission
 * it carries, so `users:write` alone cannot make its holder an admin.
 */
export function missingPermissions(holder: ReadonlySet<string>, wanted: readonly string[]): string[] {
  return [...new Set(wanted)].filter((p) => !holder.has(p));
}

/**
 * Throws "forbidden" when `grantable` (the actor's own permissions; absent for
 * the system itself) lacks any of `permissions`, which `what` would hand out.
 */
export function assertCanGrant(grantable: ReadonlySet<string> | undefined, permissions: readonly string[], what: string) {
  if (!grantable) return;
  const missing = missingPermissions(grantable, permissions);
  if (missing.length) {
    throw new DomainError(
      "forbidden",
      `You cannot ${what}: it carries ${missing.map((p) => `"${p}"`).join(", ")}, which you do not hold yourself.`,
    );
  }
}
