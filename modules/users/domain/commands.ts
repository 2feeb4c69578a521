/**
 * Commands on a user (imperative). Input schemas double as form and API
 * validation; `expectedVersion` is the version the caller saw.
 */
import { z } from "zod";
import { emailSchema, personNameSchema } from "./events";

const expectedVersion = z.coerce.number().int().min(0, "expectedVersion must be 0 or more.");
const userId = z.uuid("Not a valid user id.");
const roleId = z.uuid("Not a valid role id.");

export const createUserInput = z.object({ email: emailSchema, name: personNameSchema });
export const updateUserInput = z.object({
  userId,
  expectedVersion,
  email: emailSchema.optional(),
  name: personNameSchema.optional(),
});
export const deleteUserInput = z.object({ userId, expectedVersion });
/** Where a sign-in or sign-out came from (personal data: the events declare it so). */
const clientMeta = {
  ip: z.string().trim().max(100).nullable().default(null),
  userAgent: z.string().max(1000).nullable().default(null),
};
export const recordLoginInput = z.object({ userId, ...clientMeta });
/** Recorded by the access module once the new hash is stored and the sessions are deleted (same transaction). */
export const recordPasswordSetInput = z.object({
  userId,
  reset: z.boolean(),
  sessionsEnded: z.number().int().min(0),
});
export const eraseUserInput = z.object({
  userId,
  reason: z
    .string({ error: "A reason is required." })
    .trim()
    .min(1, "A reason is required.")
    .max(500, "The reason must be at most 500 characters."),
});
export const recordSessionsEndedInput = z.object({ userId, count: z.number().int().min(0) });
export const recordLoginFailureInput = z.object({
  userId,
  reason: z.enum(["wrong-password", "no-password", "no-access"]),
  ...clientMeta,
});
export const recordLogoutInput = z.object({ userId, ...clientMeta });
export const assignRoleInput = z.object({ userId, roleId, expectedVersion: expectedVersion.optional() });
export const unassignRoleInput = z.object({ userId, roleId, expectedVersion: expectedVersion.optional() });

/** The most users one bulk role change takes (the console sends its selection in chunks of 500). */
export const BULK_ROLE_CHANGE_MAX = 10_000;

/**
 * One role given to or taken from many users (the console's bulk actions). Malformed ids refuse the
 * whole request (nothing is done); repeated ids count once.
 */
export const changeRoleOfUsersInput = z.object({
  roleId,
  change: z.enum(["assign", "unassign"], "Choose whether to assign or unassign the role."),
  userIds: z.preprocess(
    // A form sends one id as a string and several as a list.
    (v) => (typeof v === "string" ? [v] : v),
    z
      .array(z.string(), "Choose the users to change.")
      .min(1, "Choose at least one user.")
      .max(BULK_ROLE_CHANGE_MAX, `At most ${BULK_ROLE_CHANGE_MAX.toLocaleString("en-US")} users at a time.`)
      .superRefine((ids, ctx) => {
        const bad = ids.filter((id) => !z.uuid().safeParse(id).success);
        if (bad.length) {
          const shown = bad.slice(0, 3).map((id) => JSON.stringify(id.slice(0, 40)));
          ctx.addIssue({
            code: "custom",
            message: `${bad.length} of ${ids.length} are not valid user ids (${shown.join(", ")}${bad.length > 3 ? ", …" : ""}).`,
          });
        }
      }),
  ),
});

export type CreateUserInput = z.infer<typeof createUserInput>;
export type UpdateUserInput = z.infer<typeof updateUserInput>;
export type DeleteUserInput = z.infer<typeof deleteUserInput>;
export type RecordLoginInput = z.infer<typeof recordLoginInput>;
export type RecordPasswordSetInput = z.infer<typeof recordPasswordSetInput>;
export type RecordSessionsEndedInput = z.infer<typeof recordSessionsEndedInput>;
export type RecordLoginFailureInput = z.infer<typeof recordLoginFailureInput>;
export type RecordLogoutInput = z.infer<typeof recordLogoutInput>;
export type AssignRoleInput = z.infer<typeof assignRoleInput>;
export type EraseUserInput = z.infer<typeof eraseUserInput>;
export type UnassignRoleInput = z.infer<typeof unassignRoleInput>;
export type ChangeRoleOfUsersInput = z.infer<typeof changeRoleOfUsersInput>;

/** A role as the user aggregate needs to know it when assigning. */
export interface RoleRef {
  id: string;
  name: string;
  isDeleted: boolean;
}

export type UserCommand =
  | ({ type: "CreateUser"; userId: string } & CreateUserInput)
  | ({ type: "UpdateUser" } & UpdateUserInput)
  | ({ type: "DeleteUser" } & DeleteUserInput)
  | ({ type: "RecordLogin" } & RecordLoginInput)
  | ({ type: "RecordPasswordSet" } & RecordPasswordSetInput)
  | ({ type: "RecordSessionsEnded" } & RecordSessionsEndedInput)
  | ({ type: "RecordLoginFailure" } & RecordLoginFailureInput)
  | ({ type: "RecordLogout" } & RecordLogoutInput)
  /** `role` is null when no role has that id. */
  | ({ type: "AssignRole"; role: RoleRef | null } & AssignRoleInput)
  | ({ type: "UnassignRole"; reason: "unassigned" | "role-deleted" } & UnassignRoleInput)
  | ({ type: "EraseUser" } & EraseUserInput);
