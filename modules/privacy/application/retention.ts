/**
 * Optional retention: users deleted longer ago than ERASE_DELETED_USERS_AFTER
 * (e.g. "395d"; off when unset) are erased automatically, by the actor
 * `retention`, as an administrator would erase them. Run by the projector
 * workers (workers/projector.ts); two of them racing over one user is
 * harmless: the second is refused ("already erased") and skips it.
 */
import { z } from "zod";
import type { CommandContext } from "@/lib/command/execute";
import { isDomainError } from "@/lib/errors";
import type { Logger } from "@/lib/log";
import { eraseUser, type ErasureDeps } from "./erase-person";

const UNITS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A duration as `<n>s|m|h|d` (e.g. "395d" ≈ 13 months), in ms; unset or empty: off. */
export const retentionSchema = z
  .string()
  .trim()
  .optional()
  .transform((v, ctx) => {
    if (!v) return null;
    const m = /^(\d+)\s*([smhd])$/.exec(v);
    if (!m || Number(m[1]) === 0) {
      ctx.addIssue({ code: "custom", message: 'a positive duration such as "395d", "12h", "30m" or "10s"' });
      return z.NEVER;
    }
    return Number(m[1]) * UNITS[m[2] as keyof typeof UNITS];
  });

export function retentionFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): number | null {
  const parsed = retentionSchema.safeParse(env.ERASE_DELETED_USERS_AFTER);
  if (!parsed.success) throw new Error(`Invalid configuration:\n  ERASE_DELETED_USERS_AFTER: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

const RETENTION_ACTOR: CommandContext = { actor: { kind: "service", name: "retention" } };

/** Erases up to `limit` users deleted before `now - afterMs`; returns their ids. */
export async function eraseExpiredUsers(deps: ErasureDeps, afterMs: number, options: { now?: Date; limit?: number; log?: Logger } = {}) {
  const cutoff = new Date((options.now ?? new Date()).getTime() - afterMs);
  const due = await deps.db.user.findMany({
    where: { isDeleted: true, erasedAt: null, deletedAt: { lt: cutoff } },
    select: { id: true },
    orderBy: { deletedAt: "asc" },
    take: options.limit ?? 100,
  });
  const erased: string[] = [];
  for (const { id } of due) {
    try {
      await eraseUser(deps, RETENTION_ACTOR, { userId: id, reason: `retention: deleted more than ${Math.round(afterMs / 1000)} s ago` });
      erased.push(id);
      options.log?.info({ userId: id }, "retention: personal data erased");
    } catch (error) {
      if (isDomainError(error) && error.code === "invariant") continue; // erased meanwhile
      options.log?.error({ err: error, userId: id }, "retention: erasure failed; retried on the next pass");
    }
  }
  return erased;
}

/** Runs eraseExpiredUsers every `everyMs` (default: a tenth of the period, between 1 s and 1 h). */
export function startRetention(deps: ErasureDeps, afterMs: number, log: Logger) {
  const everyMs = Math.min(3_600_000, Math.max(1_000, Math.round(afterMs / 10)));
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(() => eraseExpiredUsers(deps, afterMs, { log })).catch((error: unknown) => log.error({ err: error }, "retention pass failed"));
  }, everyMs);
  log.info({ afterMs, everyMs }, "retention: users deleted longer ago than this are erased automatically");
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
