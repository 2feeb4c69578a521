/**
 * The one TanStack Query key factory for users: never write a users key inline.
 * Broad to narrow, so invalidating `all` reaches every list and detail.
 */
import type { UserStatusFilter } from "@/modules/users/read/list-users";

export const userKeys = {
  all: ["users"] as const,
  lists: () => [...userKeys.all, "list"] as const,
  list: (filters: { search?: string; status?: UserStatusFilter; cursor?: string | null }) =>
    [...userKeys.lists(), filters] as const,
  details: () => [...userKeys.all, "detail"] as const,
  detail: (userId: string) => [...userKeys.details(), userId] as const,
};
