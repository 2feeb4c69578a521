/** The one TanStack Query key factory for roles (see modules/users/ui/user-query-keys.ts). */
export const roleKeys = {
  all: ["roles"] as const,
  lists: () => [...roleKeys.all, "list"] as const,
  details: () => [...roleKeys.all, "detail"] as const,
  detail: (roleId: string) => [...roleKeys.details(), roleId] as const,
};
