/**
 * The one TanStack Query key factory for the activity feed (see
 * modules/users/ui/user-query-keys.ts). Every event of either stream changes
 * the feed, so live updates invalidate `activityKeys.all`.
 */
export interface ActivityKeyFilters {
  type?: string;
  actor?: string;
  from?: string;
  to?: string;
  cursor?: string | null;
}

export const activityKeys = {
  all: ["activity"] as const,
  lists: () => [...activityKeys.all, "list"] as const,
  list: (filters: ActivityKeyFilters) => [...activityKeys.lists(), filters] as const,
};
