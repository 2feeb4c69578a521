/**
 * The users row as the pages read it, derived from the Prisma model (never
 * copied by hand): the list, the user's page and the table's client-side rows
 * all pick from it.
 */
import type { User } from "@/generated/prisma/client";

/** The profile columns a page shows (not the search columns email_lower / name_lower). */
export type UserProfile = Omit<User, "emailLower" | "nameLower">;

/** A role as a user's row lists it: its current name. */
export interface UserRoleRef {
  id: string;
  name: string;
}

/** One row of the users list. */
export type UserListRow = Pick<UserProfile, "id" | "email" | "name" | "isDeleted" | "version" | "createdAt"> & {
  roles: UserRoleRef[];
};

/** The same row sent to the client table: dates as ISO-8601 strings. */
export type UsersTableRow = Omit<UserListRow, "createdAt"> & { createdAt: string };
