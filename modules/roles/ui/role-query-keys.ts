/**
 * The one TanStack Query key factory for roles: never write a roles key inline. Only what a
 * query uses (the role pages are server-rendered): a deletion's progress, which the role's page polls.
 */
export const roleKeys = {
  all: ["roles"] as const,
  detail: (roleId: string) => [...roleKeys.all, "detail", roleId] as const,
  deletion: (roleId: string) => [...roleKeys.detail(roleId), "deletion"] as const,
};
