/** Live roles with their member counts (server only), by name. */
import type { Db } from "@/lib/db";

export interface RoleListRow {
  id: string;
  name: string;
  description: string;
  permissions: string[];
  builtIn: boolean;
  version: number;
  createdAt: Date;
  /** user_roles rows whose user is not deleted. */
  memberCount: number;
}

export async function listRoles(db: Db): Promise<RoleListRow[]> {
  const [roles, counts] = await Promise.all([
    db.role.findMany({
      where: { isDeleted: false },
      orderBy: [{ name: "asc" }, { id: "asc" }],
      select: { id: true, name: true, description: true, permissions: true, builtIn: true, version: true, createdAt: true },
    }),
    db.userRole.groupBy({
      by: ["roleId"],
      where: { user: { isDeleted: false } },
      _count: { _all: true },
    }),
  ]);
  const memberCounts = new Map(counts.map((c) => [c.roleId, c._count._all]));
  return roles.map((r) => ({ ...r, memberCount: memberCounts.get(r.id) ?? 0 }));
}
