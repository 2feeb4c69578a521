/**
 * The drills' ground truth: read the whole log, fold it with the domain's own
 * `evolve`, and compare with the read model table by table (md5 of the ordered
 * rows), plus the timeline and the dead letters row by row.
 */
import { createHash } from "node:crypto";
import type pg from "pg";
import { foldLog as foldLogWith, posKey, readLog, type LogMessage } from "@/infra/log-harness";
import { CannotApplyEventError } from "@/lib/projection/timeline";
import { decodeEvent, type DomainEvent } from "@/modules";
import { wantedKeys } from "@/lib/privacy/personal-data";
import { deadLetterTopic } from "@/lib/kafka/topics";
import { evolveRole, type RoleState } from "@/modules/roles/domain/role-state";
import { evolveUser, type UserState } from "@/modules/users/domain/user-state";
import type { Scope } from "./infra";
import { say, sleep, type Report } from "./util";

// Reading the log, its ends and the projector's position: the tests' and drills' shared harness.
export { endOffsets, readLog, totalMessages, waitUntilCaughtUp, type LogMessage } from "@/infra/log-harness";

const iso = (v: string | Date | null | undefined) => (v == null ? "" : new Date(v).toISOString());

export interface Fold {
  users: Map<string, UserState>;
  roles: Map<string, RoleState>;
  /** roleId → time of its last assignment, per user (user_roles.assigned_at). */
  assignedAt: Map<string, string>;
  /** Timeline rows the projector must have written, one per applied event. */
  userTimeline: string[];
  roleTimeline: string[];
  /** topic/partition/offset of every message the projector must dead-letter. */
  deadLetters: Set<string>;
  /** Every decodable event id in the log (for "is this acknowledged event there?"). */
  eventIds: Set<string>;
  /** Event ids seen more than once (republished). */
  duplicateIds: number;
  /** correlationId header → number of messages. */
  byCorrelation: Map<string, number>;
  messages: number;
}

/** What the read model must hold: the fold of the log, with the projector's rules (dedupe by id, DLQ what cannot apply). */
export async function foldLog(scope: Scope, log: LogMessage[]): Promise<Fold> {
  // The keys of the personal data in the log (lib/privacy): the fold reads what the projector reads.
  const ring = await scope.personalData.ring(scope.db, wantedKeys(log));
  const fold = foldLogWith<{ users: UserState; roles: RoleState }, DomainEvent>(
    log,
    {
      users: { topic: scope.topics.users, decode: (m: LogMessage) => decodeEvent(m.value, "users", m.key, ring), evolve: evolveUser },
      roles: { topic: scope.topics.roles, decode: (m: LogMessage) => decodeEvent(m.value, "roles", m.key, ring), evolve: evolveRole },
    },
    (error) => error instanceof CannotApplyEventError,
    // The drills create every event topic with KAFKA_PARTITIONS partitions (ensureTopics).
    scope.config.KAFKA_PARTITIONS,
  );
  const assignedAt = new Map<string, string>();
  for (const { event: e } of fold.applied) {
    if (e.type === "RoleAssignedToUser") assignedAt.set(`${e.aggregateId}|${e.payload.roleId}`, e.occurredAt);
  }
  const timeline = (stream: "users" | "roles") =>
    fold.applied.filter((a) => a.stream === stream).map((a) => timelineLine(a.event, a.message));
  return { ...fold, users: fold.states.users, roles: fold.states.roles, assignedAt, userTimeline: timeline("users"), roleTimeline: timeline("roles") };
}

const timelineLine = (e: DomainEvent, m: { topic: string; partition: number; offset: string }) =>
  [e.id, e.aggregateId, e.sequence, e.type, e.correlationId, iso(e.occurredAt), m.topic, m.partition, m.offset].join("|");

const userLine = (u: {
  id: string;
  email: string;
  name: string;
  isDeleted: boolean;
  version: number;
  createdAt: string | Date;
  updatedAt: string | Date;
  deletedAt: string | Date | null;
  lastLoginAt: string | Date | null;
}) =>
  [u.id, u.email, u.name, u.isDeleted, u.version, iso(u.createdAt), iso(u.updatedAt), iso(u.deletedAt), iso(u.lastLoginAt)].join("|");

const roleLine = (r: {
  id: string;
  name: string;
  description: string;
  isDeleted: boolean;
  version: number;
  createdAt: string | Date;
  updatedAt: string | Date;
  deletedAt: string | Date | null;
}) => [r.id, r.name, r.description, r.isDeleted, r.version, iso(r.createdAt), iso(r.updatedAt), iso(r.deletedAt)].join("|");

function md5(lines: string[]) {
  const h = createHash("md5");
  for (const l of [...lines].sort()) h.update(l).update("\n");
  return h.digest("hex");
}

/** Compares two sets of rows; returns a short description of the first differences. */
function diff(expected: string[], actual: string[]): string {
  const a = new Set(actual);
  const e = new Set(expected);
  const missing = expected.filter((l) => !a.has(l));
  const extra = actual.filter((l) => !e.has(l));
  const dupes = actual.length - a.size;
  return `missing ${missing.length}, unexpected ${extra.length}, duplicate ${dupes}` +
    (missing[0] ? `; first missing: ${missing[0]}` : "") +
    (extra[0] ? `; first unexpected: ${extra[0]}` : "");
}

export interface ReadModelSnapshot {
  users: string[];
  userRoles: string[];
  roles: string[];
  userEvents: string[];
  roleEvents: string[];
  deadLetters: string[];
}

export async function snapshotReadModel(scope: Scope): Promise<ReadModelSnapshot> {
  const c = scope.sql();
  await c.connect();
  try {
    const q = async <T extends pg.QueryResultRow>(sql: string) => (await c.query<T>(sql)).rows;
    const users = (
      await q<{ id: string; email: string; name: string; is_deleted: boolean; version: number; created_at: Date; updated_at: Date; deleted_at: Date | null; last_login_at: Date | null }>(
        "select id::text, email, name, is_deleted, version, created_at, updated_at, deleted_at, last_login_at from users",
      )
    ).map((u) =>
      userLine({ id: u.id, email: u.email, name: u.name, isDeleted: u.is_deleted, version: u.version, createdAt: u.created_at, updatedAt: u.updated_at, deletedAt: u.deleted_at, lastLoginAt: u.last_login_at }),
    );
    const userRoles = (await q<{ user_id: string; role_id: string; role_name: string; assigned_at: Date }>("select user_id::text, role_id::text, role_name, assigned_at from user_roles")).map(
      (r) => [r.user_id, r.role_id, r.role_name, iso(r.assigned_at)].join("|"),
    );
    const roles = (
      await q<{ id: string; name: string; description: string; is_deleted: boolean; version: number; created_at: Date; updated_at: Date; deleted_at: Date | null }>(
        "select id::text, name, description, is_deleted, version, created_at, updated_at, deleted_at from roles",
      )
    ).map((r) =>
      roleLine({ id: r.id, name: r.name, description: r.description, isDeleted: r.is_deleted, version: r.version, createdAt: r.created_at, updatedAt: r.updated_at, deletedAt: r.deleted_at }),
    );
    type T = { event_id: string; agg: string; sequence: number; type: string; correlation_id: string; occurred_at: Date; topic: string; partition: number; offset: string };
    const timeline = (rows: T[]) =>
      rows.map((r) => [r.event_id, r.agg, r.sequence, r.type, r.correlation_id, iso(r.occurred_at), r.topic, r.partition, r.offset].join("|"));
    const userEvents = timeline(
      await q<T>('select event_id::text, user_id::text as agg, sequence, type, correlation_id, occurred_at, topic, partition, "offset"::text as "offset" from user_events'),
    );
    const roleEvents = timeline(
      await q<T>('select event_id::text, role_id::text as agg, sequence, type, correlation_id, occurred_at, topic, partition, "offset"::text as "offset" from role_events'),
    );
    const deadLetters = (await q<{ k: string }>(`select topic || '/' || partition || '/' || "offset" as k from dead_letters`)).map((r) => r.k);
    return { users, userRoles, roles, userEvents, roleEvents, deadLetters };
  } finally {
    await c.end();
  }
}

/**
 * Read model vs fold of the log, table by table. Adds one check per table to
 * `report` and returns whether all matched.
 */
export function compareWithFold(report: Report, fold: Fold, rm: ReadModelSnapshot): boolean {
  const expected = {
    users: [...fold.users.values()].map(userLine),
    user_roles: [...fold.users.values()].flatMap((u) =>
      Object.entries(u.roles).map(([roleId, roleName]) => [u.id, roleId, roleName, iso(fold.assignedAt.get(`${u.id}|${roleId}`))].join("|")),
    ),
    roles: [...fold.roles.values()].map(roleLine),
    user_events: fold.userTimeline,
    role_events: fold.roleTimeline,
    dead_letters: [...fold.deadLetters],
  };
  const actual = {
    users: rm.users,
    user_roles: rm.userRoles,
    roles: rm.roles,
    user_events: rm.userEvents,
    role_events: rm.roleEvents,
    dead_letters: rm.deadLetters,
  };
  let all = true;
  for (const table of Object.keys(expected) as Array<keyof typeof expected>) {
    const e = md5(expected[table]);
    const a = md5(actual[table]);
    const ok = e === a && expected[table].length === actual[table].length;
    all &&= ok;
    report.check(
      `${table} = fold of the log`,
      ok,
      ok ? `${actual[table].length} rows, md5 ${a.slice(0, 12)}` : `log ${expected[table].length} rows (md5 ${e.slice(0, 12)}) vs read model ${actual[table].length} (md5 ${a.slice(0, 12)}): ${diff(expected[table], actual[table])}`,
    );
  }
  return all;
}

/** Sum of the stored positions of the group: grows as the projector commits batches. */
export async function projectedPosition(scope: Scope): Promise<number> {
  const c = scope.sql();
  await c.connect();
  try {
    const { rows } = await c.query<{ s: string | null }>("select sum(next_offset)::text as s from projection_offsets where consumer_group = $1", [
      scope.config.PROJECTOR_GROUP_ID,
    ]);
    return Number(rows[0]?.s ?? 0);
  } finally {
    await c.end();
  }
}

/** The dead-letter topics' messages (their dlq-original-* headers). */
export async function readDeadLetterTopics(scope: Scope) {
  const topics = Object.values(scope.topics).map(deadLetterTopic);
  const log = await readLog(scope, topics);
  return log.map((m) => ({
    original: posKey(m.headers["dlq-original-topic"] ?? "?", Number(m.headers["dlq-original-partition"]), m.headers["dlq-original-offset"] ?? "?"),
    reason: m.headers["dlq-reason"] ?? "",
    /** The relay's `dlq-value-omitted` header ("N bytes"): the copy lacks the value, too large for the DLQ topic. */
    valueOmitted: m.headers["dlq-value-omitted"],
    value: m.value,
  }));
}

export interface DeadLetterRow {
  reason: string;
  published: boolean;
  attempts: number;
  lastError: string | null;
}

/** The dead_letters rows by topic/partition/offset, without their values (which may be 1 MB each). */
export async function deadLetterRows(scope: Scope): Promise<Map<string, DeadLetterRow>> {
  const c = scope.sql();
  await c.connect();
  try {
    const { rows } = await c.query<{ k: string; reason: string; published: boolean; dlq_attempts: number; dlq_last_error: string | null }>(
      `select topic || '/' || partition || '/' || "offset" as k, reason, dlq_published_at is not null as published, dlq_attempts, dlq_last_error from dead_letters`,
    );
    return new Map(rows.map((r) => [r.k, { reason: r.reason, published: r.published, attempts: r.dlq_attempts, lastError: r.dlq_last_error }]));
  } finally {
    await c.end();
  }
}

/**
 * Waits until the dead-letter relay has copied every dead_letters row to its DLQ topic
 * (dlq_published_at set): the rows are an outbox, so the topics lag behind the rows.
 * Resolves with the rows still pending at the deadline (0: all copied).
 */
export async function waitForDeadLetterRelay(scope: Scope, timeoutMs: number, progress?: (pending: number, lastError: string | null) => void): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let lastPrint = 0;
  for (;;) {
    const c = scope.sql();
    await c.connect();
    let pending: number;
    let lastError: string | null;
    try {
      const { rows } = await c.query<{ pending: number; last_error: string | null }>(
        "select count(*)::int as pending, max(dlq_last_error) as last_error from dead_letters where dlq_published_at is null",
      );
      pending = rows[0]!.pending;
      lastError = rows[0]!.last_error;
    } finally {
      await c.end();
    }
    if (pending === 0 || Date.now() > deadline) return pending;
    if (progress && Date.now() - lastPrint > 5_000) {
      lastPrint = Date.now();
      progress(pending, lastError);
    }
    await sleep(250);
  }
}

/** The projector's recorded partition failures (consumer_partition_errors): why a partition does not move. */
export async function partitionFailures(scope: Scope): Promise<string[]> {
  const c = scope.sql();
  await c.connect();
  try {
    const { rows } = await c.query<{ topic: string; partition: number; offset: string | null; error: string; attempts: number }>(
      `select topic, partition, "offset"::text as "offset", error, attempts from consumer_partition_errors where consumer_group = $1 order by topic, partition`,
      [scope.config.PROJECTOR_GROUP_ID],
    );
    return rows.map((r) => `${r.topic}/${r.partition} at offset ${r.offset} failed ${r.attempts}× : ${r.error.replace(/\s+/g, " ").slice(0, 300)}`);
  } finally {
    await c.end();
  }
}

export { posKey };
export function logSummary(fold: Fold) {
  say(
    `  log: ${fold.messages} messages, ${fold.eventIds.size} distinct events, ${fold.userTimeline.length + fold.roleTimeline.length} applicable, ${fold.deadLetters.size} to dead-letter, ${fold.duplicateIds} republished ids`,
  );
}
