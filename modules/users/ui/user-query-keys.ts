/**
 * The one TanStack Query key factory for users: never write a users key inline.
 * Broad to narrow, so invalidating `all` reaches every list and detail, and
 * invalidating `detail(id)` reaches that user's timeline and time-travel states.
 */
import type { UserEventType } from "@/modules/users/domain/events";
import type { UserSort, UserStatusFilter } from "@/modules/users/read/list-users";

export interface UserListFilters {
  search?: string;
  status?: UserStatusFilter;
  roleId?: string | null;
  sort?: UserSort;
  cursor?: string | null;
}

export interface TimelineFilters {
  /** Only events of this type; null for all. */
  type: UserEventType | null;
}

export const userKeys = {
  all: ["users"] as const,
  lists: () => [...userKeys.all, "list"] as const,
  list: (filters: UserListFilters) => [...userKeys.lists(), filters] as const,
  details: () => [...userKeys.all, "detail"] as const,
  detail: (userId: string) => [...userKeys.details(), userId] as const,
  timelines: (userId: string) => [...userKeys.detail(userId), "timeline"] as const,
  timeline: (userId: string, filters: TimelineFilters) => [...userKeys.timelines(userId), filters] as const,
  /** The user's state right after event `sequence` (immutable: events never change). */
  stateAt: (userId: string, sequence: number) => [...userKeys.detail(userId), "state-at", sequence] as const,
};
