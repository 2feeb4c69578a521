import { z } from "zod";
import { roleDescriptionSchema, roleNameSchema } from "./events";

const expectedVersion = z.coerce.number().int().min(0, "expectedVersion must be 0 or more.");
const roleId = z.uuid("Not a valid role id.");

export const createRoleInput = z.object({ name: roleNameSchema, description: roleDescriptionSchema.default("") });
export const updateRoleInput = z.object({
  roleId,
  expectedVersion,
  name: roleNameSchema.optional(),
  description: roleDescriptionSchema.optional(),
});
export const deleteRoleInput = z.object({ roleId, expectedVersion });

export type CreateRoleInput = z.infer<typeof createRoleInput>;
export type UpdateRoleInput = z.infer<typeof updateRoleInput>;
export type DeleteRoleInput = z.infer<typeof deleteRoleInput>;

export type RoleCommand =
  | ({ type: "CreateRole"; roleId: string } & CreateRoleInput)
  | ({ type: "UpdateRole" } & UpdateRoleInput)
  | ({ type: "DeleteRole" } & DeleteRoleInput);
