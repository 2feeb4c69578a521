/**
 * How far a role's deletion has got (role_deletions, written by the command side in each batch's
 * own transaction: modules/users/application/role-deletion.ts). Exact, not eventually consistent:
 * `done` counts the members whose unassignment Kafka acknowledged and PostgreSQL committed.
 */
import type { Db } from "@/lib/db";

/** A deletion whose runner has not counted a batch for this long is shown as interrupted. */
export const ROLE_DELETION_STALE_MS = 30_000;

export interface RoleDeletionProgress {
  total: number;
  done: number;
  startedAt: string;
  updatedAt: string;
  finishedAt: string | null;
  /** Why the last run stopped, until the deletion is run again. */
  error: string | null;
  /** Unfinished, and not counted for ROLE_DELETION_STALE_MS: its run died (the process, say). */
  isStale: boolean;
}

export async function getRoleDeletionProgress(db: Db, roleId: string, now = new Date()): Promise<RoleDeletionProgress | null> {
  const row = await db.roleDeletion.findUnique({ where: { roleId } });
  if (!row) return null;
  return {
    total: row.total,
    done: row.done,
    startedAt: row.startedAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
    error: row.error,
    isStale: !row.finishedAt && now.getTime() - row.updatedAt.getTime() > ROLE_DELETION_STALE_MS,
  };
}
