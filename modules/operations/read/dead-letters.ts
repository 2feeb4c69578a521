/** The dead-letter list (server only): newest first, by status, keyset-paginated on id. */
import { z } from "zod";
import type { Db } from "@/lib/db";

export const DEAD_LETTER_STATUSES = ["open", "retried", "discarded"] as const;
export type DeadLetterStatus = (typeof DEAD_LETTER_STATUSES)[number];

export const PAGE_SIZE = 50;

const filtersSchema = z.object({
  status: z.enum([...DEAD_LETTER_STATUSES, "all"]).catch("open"),
  before: z
    .string()
    .regex(/^\d{1,18}$/)
    .optional()
    .catch(undefined),
  /** The row the last action handled (set by the actions' redirect). */
  handled: z
    .string()
    .regex(/^\d{1,18}$/)
    .optional()
    .catch(undefined),
});
export type DeadLetterFilters = z.infer<typeof filtersSchema>;

export function parseDeadLetterFilters(params: Record<string, string | string[] | undefined>): DeadLetterFilters {
  const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  return filtersSchema.parse({ status: first(params.status) ?? "open", before: first(params.before), handled: first(params.handled) });
}

export const deadLettersHref = (status: DeadLetterFilters["status"], before?: string) =>
  `/dead-letters?status=${status}${before ? `&before=${before}` : ""}`;

export interface DeadLetterView {
  id: string;
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  reason: string;
  value: string | null;
  headers: Record<string, string>;
  createdAt: Date;
  status: DeadLetterStatus;
  resolvedAt: Date | null;
  resolvedBy: string | null;
  retriedTo: { partition: number; offset: string } | null;
}

export async function listDeadLetters(db: Db, filters: DeadLetterFilters) {
  const rows = await db.deadLetter.findMany({
    where: {
      ...(filters.status === "all" ? {} : { status: filters.status }),
      ...(filters.before ? { id: { lt: BigInt(filters.before) } } : {}),
    },
    orderBy: { id: "desc" },
    take: PAGE_SIZE + 1,
  });
  const letters = rows.slice(0, PAGE_SIZE).map(toView);
  return { letters, nextBefore: rows.length > PAGE_SIZE ? letters.at(-1)!.id : null };
}

export async function findDeadLetter(db: Db, id: string): Promise<DeadLetterView | null> {
  const row = await db.deadLetter.findUnique({ where: { id: BigInt(id) } });
  return row ? toView(row) : null;
}

type Row = Awaited<ReturnType<Db["deadLetter"]["findUniqueOrThrow"]>>;

function toView(r: Row): DeadLetterView {
  return {
    id: String(r.id),
    topic: r.topic,
    partition: r.partition,
    offset: String(r.offset),
    key: r.key,
    reason: r.reason,
    value: r.value,
    headers: headersOf(r.headers),
    createdAt: r.createdAt,
    status: (DEAD_LETTER_STATUSES as readonly string[]).includes(r.status) ? (r.status as DeadLetterStatus) : "open",
    resolvedAt: r.resolvedAt,
    resolvedBy: r.resolvedBy,
    retriedTo:
      r.retriedPartition !== null && r.retriedOffset !== null
        ? { partition: r.retriedPartition, offset: String(r.retriedOffset) }
        : null,
  };
}

export async function countDeadLetters(db: Db): Promise<Record<DeadLetterStatus | "all", number>> {
  const groups = await db.deadLetter.groupBy({ by: ["status"], _count: { _all: true } });
  const counts = { open: 0, retried: 0, discarded: 0, all: 0 };
  for (const g of groups) {
    if (g.status in counts) counts[g.status as DeadLetterStatus] = g._count._all;
    counts.all += g._count._all;
  }
  return counts;
}

/** The stored headers column as a string map (anything else in it is ignored). */
export function headersOf(raw: unknown): Record<string, string> {
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return {};
  return Object.fromEntries(Object.entries(raw).filter((e): e is [string, string] => typeof e[1] === "string"));
}
