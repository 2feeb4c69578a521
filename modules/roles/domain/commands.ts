import { z } from "zod";
import { permissionSchema } from "@/lib/auth/permissions";
import { roleDescriptionSchema, roleNameSchema } from "./events";

const expectedVersion = z.coerce.number().int().min(0, "expectedVersion must be 0 or more.");
const roleId = z.uuid("Not a valid role id.");

/**
 * A set of permissions; a form sends one checkbox value or several (plus an
 * always-sent "" marker, so unticking every box means "none"), an API an array.
 */
const permissions = z.preprocess(
  (v) => {
    const list = typeof v === "string" ? [v] : v;
    return Array.isArray(list) ? list.filter((p) => p !== "") : list;
  },
  z.array(permissionSchema, "Permissions must be a list.").max(50),
);

export const createRoleInput = z.object({
  name: roleNameSchema,
  description: roleDescriptionSchema.default(""),
  permissions: permissions.default([]),
});
export const updateRoleInput = z.object({
  roleId,
  expectedVersion,
  name: roleNameSchema.optional(),
  description: roleDescriptionSchema.optional(),
  permissions: permissions.optional(),
});
export const deleteRoleInput = z.object({ roleId, expectedVersion });

export type CreateRoleInput = z.infer<typeof createRoleInput>;
export type UpdateRoleInput = z.infer<typeof updateRoleInput>;
export type DeleteRoleInput = z.infer<typeof deleteRoleInput>;

export type RoleCommand =
  | ({ type: "CreateRole"; roleId: string; builtIn?: boolean; /** No event (instead of an error) if the role exists. */ ifAbsent?: boolean } & CreateRoleInput)
  | ({ type: "UpdateRole" } & UpdateRoleInput)
  | ({ type: "DeleteRole" } & DeleteRoleInput)
  /** The system's own: a built-in role gains the permissions a release added to it. */
  | { type: "GrantBuiltInPermissions"; roleId: string; permissions: string[] };
