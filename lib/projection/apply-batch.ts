/**
 * One batch of one partition, applied in one PostgreSQL transaction: skip what
 * was already applied, fold the events into the touched aggregates, write
 * rows, timeline and the partition's next offset together. Position and state
 * can therefore never disagree, whatever crashes when.
 */
import { Prisma } from "@/generated/prisma/client";
import type { Tx } from "@/lib/command/execute";
import { decodeEvent, LONE_SURROGATE } from "@/lib/events/codec";
import { keyPartition } from "@/lib/kafka/partitioner";
import type { Logger } from "@/lib/log";
import type { DomainEvent, StreamName } from "@/lib/events/registry";
import type { RoleEvent } from "@/modules/roles/domain/events";
import type { RoleState } from "@/modules/roles/domain/role-state";
import { projectRoleEvent } from "@/modules/roles/projections/role-projection";
import type { UserEvent } from "@/modules/users/domain/events";
import { CannotApplyEventError, type UserState } from "@/modules/users/domain/user-state";
import { projectUserEvent, type Position, type TimelineRow } from "@/modules/users/projections/user-projection";

export interface RawMessage {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, unknown>;
  /** Kafka's timestamp (ms since the epoch, as kafkajs gives it). */
  timestamp?: string;
}

export interface DeadLetter {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  /** The original headers as UTF-8 strings: kept, and re-sent on retry. */
  headers: Record<string, string>;
  reason: string;
  /** From the `correlationId` header, or the envelope when it parses: ties the log line to its request. */
  correlationId: string | null;
}

export interface BatchOutcome {
  /** Offset after the last message handled (to commit to Kafka). */
  nextOffset: string | null;
  /**
   * Set when the batch was fetched from past the stored position (nothing applied): the
   * consumer must seek back to this offset. Messages in between would otherwise be lost.
   */
  gapFrom?: string;
  applied: DomainEvent[];
  deadLetters: DeadLetter[];
  skipped: number;
}

export interface BatchInput {
  group: string;
  topic: string;
  partition: number;
  stream: StreamName;
  /** The topic's partition count: an event must sit on its aggregate id's murmur2 partition. */
  partitions: number;
  /**
   * The offset the consumer fetched this batch from (kafkajs `batch.fetchedOffset`). Beyond
   * the stored position it means a gap; the first message's offset cannot tell, as control
   * records of transactional producers legitimately take offsets.
   */
  fetchedOffset?: string;
  messages: readonly RawMessage[];
  /** Debug lines for events skipped as already projected (default: none). */
  logger?: Logger;
  /**
   * A rebuild's batch (lib/projection/rebuild), written through the
   * transaction's search_path into the shadow schema. It skips what belongs to
   * the live projector alone: the projection fence, dead-letter rows (the live
   * projector recorded those messages already), the command side's stream heads
   * and the console's change notifications.
   */
  rebuild?: boolean;
}

/**
 * Bounds of a live batch's waits in PostgreSQL: far above what a batch takes (milliseconds) and
 * what a rebuild's switch holds the fence for (tens of milliseconds), and below the consumer's
 * 10 s session timeout (kafkajs heartbeats between batches, so a longer batch loses the group).
 * A rebuild's replay batches are larger and have no statement bound.
 */
const BATCH_LOCK_TIMEOUT = "5s";
const BATCH_STATEMENT_TIMEOUT = "8s";

/** The advisory-lock class of the projection fence (the first key of the pair): "RBLD". */
const FENCE_CLASS = 0x52424c44;

/**
 * Every live batch holds the fence of its consumer group in shared mode for its
 * transaction; a rebuild's switch takes it exclusively (`lockProjectionFence`),
 * which waits for the batches in flight and holds new ones back: the live
 * positions stay put while the rebuild closes its last gap, and no batch can
 * land in the old tables after the swap. Advisory, so nothing is written to take it.
 */
export async function shareProjectionFence(tx: Tx, group: string): Promise<void> {
  await tx.$queryRaw`SELECT pg_advisory_xact_lock_shared(${FENCE_CLASS}::int, hashtext(${group}))::text`;
}

export async function lockProjectionFence(tx: Tx, group: string): Promise<void> {
  await tx.$queryRaw`SELECT pg_advisory_xact_lock(${FENCE_CLASS}::int, hashtext(${group}))::text`;
}

/**
 * Applies the batch inside `tx`. Dead letters are rows of `dead_letters` in the
 * same transaction as the new position: never lost, and never a reason to hold
 * the partition up. Their copies to `<topic>.dlq` are sent after the commit, in
 * bounded requests, by the dead-letter relay (./dead-letter-relay.ts).
 */
export async function applyBatch(tx: Tx, input: BatchInput): Promise<BatchOutcome> {
  const { group, topic, partition } = input;
  // A lock held elsewhere (a migration, a stray session) must not hang the batch without a word:
  // it fails, is recorded against its partition for the health page, and is retried.
  await tx.$queryRaw`SELECT set_config('lock_timeout', ${BATCH_LOCK_TIMEOUT}, true),
    set_config('statement_timeout', ${input.rebuild ? "0" : BATCH_STATEMENT_TIMEOUT}, true)`;
  if (!input.rebuild) await shareProjectionFence(tx, group);
  const stored = await tx.$queryRaw<{ next_offset: bigint }[]>`
    SELECT next_offset FROM projection_offsets
    WHERE consumer_group = ${group} AND topic = ${topic} AND partition = ${partition} FOR UPDATE`;
  const from = stored[0]?.next_offset ?? -1n;
  if (stored[0] && input.fetchedOffset !== undefined && BigInt(input.fetchedOffset) > from) {
    input.logger?.warn(
      { topic, partition, storedPosition: String(from), fetchedOffset: input.fetchedOffset },
      "batch fetched past the stored position: refused; seeking back",
    );
    return { nextOffset: null, gapFrom: String(from), applied: [], deadLetters: [], skipped: 0 };
  }
  const fresh = input.messages.filter((m) => BigInt(m.offset) >= from);
  const last = input.messages.at(-1);
  const outcome: BatchOutcome = {
    nextOffset: last ? String(BigInt(last.offset) + 1n) : null,
    applied: [],
    deadLetters: [],
    skipped: input.messages.length - fresh.length,
  };
  if (fresh.length === 0) return outcome;

  const decoded: { event: DomainEvent; offset: string }[] = [];
  for (const m of fresh) {
    const key = m.key?.toString("utf8") ?? null;
    const result = decodeEvent(m.value, input.stream, key);
    if (!result.ok) outcome.deadLetters.push(deadLetter(input, m, result.reason));
    else if (keyPartition(result.event.aggregateId, input.partitions) !== partition) {
      // Applied, it could overtake or trail the aggregate's other events on their own partition.
      const home = keyPartition(result.event.aggregateId, input.partitions);
      outcome.deadLetters.push(
        deadLetter(
          input,
          m,
          `on partition ${partition}, but ${key === null ? "its aggregateId" : "its key"}'s murmur2 partition is ${home} of ` +
            `${input.partitions}: publish keyed by the aggregate id with the murmur2 partitioner (the Java and kafkajs ` +
            `default; librdkafka and kcat: partitioner=murmur2_random), or the aggregate's events can be applied out of order`,
        ),
      );
    } else decoded.push({ event: result.event, offset: m.offset });
  }

  // The event id is the idempotency key: an event published twice is applied once.
  // Within the batch too: a message republished (e.g. by a producer retry) can sit beside its twin.
  const seen = await alreadyProjected(tx, input.stream, decoded.map((d) => d.event.id));
  const pending = decoded.filter((d) => {
    if (seen.has(d.event.id)) {
      input.logger?.debug(
        { eventId: d.event.id, type: d.event.type, offset: d.offset, correlationId: d.event.correlationId },
        "event already projected, skipped",
      );
      return false;
    }
    seen.add(d.event.id);
    return true;
  });
  outcome.skipped += decoded.length - pending.length;

  // Folds each event into its aggregate's state; one that cannot follow that
  // state (e.g. an update of an unknown user) is dead-lettered, not retried forever.
  const projectEach = <S>(states: Map<string, S | null>, project: ProjectFn<S>): TimelineRow[] => {
    const rows: TimelineRow[] = [];
    for (const { event, offset } of pending) {
      try {
        rows.push(project(states, event, { topic, partition, offset }));
        outcome.applied.push(event);
      } catch (error) {
        if (!(error instanceof CannotApplyEventError)) throw error;
        outcome.deadLetters.push(deadLetter(input, fresh.find((m) => m.offset === offset)!, error.message));
      }
    }
    return rows;
  };
  const ids = pending.map((d) => d.event.aggregateId);
  if (input.stream === "users") {
    const states = await loadUsers(tx, ids);
    await saveUsers(tx, states, projectEach(states, (s, e, p) => projectUserEvent(s, e as UserEvent, p)), input.rebuild);
  } else {
    const states = await loadRoles(tx, ids);
    await saveRoles(tx, states, projectEach(states, (s, e, p) => projectRoleEvent(s, e as RoleEvent, p)), input.rebuild);
  }

  if (outcome.deadLetters.length && !input.rebuild) {
    await tx.$executeRaw`
      INSERT INTO dead_letters (topic, partition, "offset", key, reason, value, headers)
      SELECT d.topic, d.partition, d."offset"::bigint, d.key, d.reason, d.value, d.headers
      FROM jsonb_to_recordset(${JSON.stringify(outcome.deadLetters.map(storableDeadLetter))}::jsonb)
        AS d(topic text, partition int, "offset" text, key text, reason text, value text, headers jsonb)
      ON CONFLICT (topic, partition, "offset") DO NOTHING`;
  }
  const lastEventAt = kafkaTime(fresh.at(-1)?.timestamp);
  await tx.$executeRaw`
    INSERT INTO projection_offsets (consumer_group, topic, partition, next_offset, updated_at, last_event_at)
    VALUES (${group}, ${topic}, ${partition}, ${BigInt(outcome.nextOffset!)}, now(), ${lastEventAt})
    ON CONFLICT (consumer_group, topic, partition)
    DO UPDATE SET next_offset = excluded.next_offset, updated_at = now(),
      last_event_at = COALESCE(excluded.last_event_at, projection_offsets.last_event_at)`;
  if (input.rebuild) return outcome;
  await tx.$executeRaw`SELECT pg_notify('read_model', ${JSON.stringify({
    topic,
    partition,
    nextOffset: outcome.nextOffset,
    ids: [...new Set(outcome.applied.map((e) => e.aggregateId))].slice(0, 50),
  })})`;
  return outcome;
}

type ProjectFn<S> = (states: Map<string, S | null>, event: DomainEvent, position: Position) => TimelineRow;

function deadLetter(input: BatchInput, m: RawMessage, reason: string): DeadLetter {
  const headers = headerStrings(m.headers);
  const value = m.value?.toString("utf8") ?? null;
  return {
    topic: input.topic,
    partition: input.partition,
    offset: m.offset,
    key: m.key?.toString("utf8") ?? null,
    value,
    headers,
    reason,
    correlationId: headers.correlationId ?? envelopeCorrelationId(value),
  };
}

/** kafkajs headers (Buffer, string or arrays of them) as strings; an array keeps its last value. */
function headerStrings(headers: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(headers ?? {})) {
    const value = Array.isArray(raw) ? raw.at(-1) : raw;
    if (Buffer.isBuffer(value)) out[name] = value.toString("utf8");
    else if (typeof value === "string") out[name] = value;
  }
  return out;
}

/** The correlationId of a message that is JSON but not a valid event, if it has one. */
function envelopeCorrelationId(value: string | null): string | null {
  if (!value?.includes("correlationId")) return null;
  try {
    const parsed: unknown = JSON.parse(value);
    const id = parsed && typeof parsed === "object" ? (parsed as { correlationId?: unknown }).correlationId : undefined;
    return typeof id === "string" ? id : null;
  } catch {
    return null;
  }
}

/** Kafka's millisecond timestamp as a Date (null when missing or not a number). */
function kafkaTime(timestamp: string | undefined): Date | null {
  const ms = Number(timestamp);
  return timestamp && Number.isFinite(ms) && ms > 0 ? new Date(ms) : null;
}

/**
 * dead_letters keeps text; a malformed message may hold NUL bytes, which PostgreSQL text/jsonb
 * refuses, or half of a surrogate pair (its reason too: V8's parse error quotes half of a 4-byte
 * character), which jsonb refuses: either failed the whole batch, forever. The row, and so its
 * copy in the DLQ topic, gets U+FFFD in their place.
 */
function storableDeadLetter(d: DeadLetter): DeadLetter {
  const clean = (v: string | null) => (v === null ? null : v.replaceAll("\u0000", "\uFFFD").replace(LONE_SURROGATE, "\uFFFD"));
  const headers = Object.fromEntries(Object.entries(d.headers).map(([k, v]) => [clean(k)!, clean(v)!]));
  return { ...d, key: clean(d.key), value: clean(d.value), reason: clean(d.reason)!, headers };
}

async function alreadyProjected(tx: Tx, stream: StreamName, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await tx.$queryRaw<{ id: string }[]>`
    SELECT event_id::text AS id FROM ${TIMELINE[stream].table} WHERE event_id = ANY(${ids}::uuid[])`;
  return new Set(rows.map((r) => r.id));
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

async function loadUsers(tx: Tx, ids: string[]): Promise<Map<string, UserState | null>> {
  const unique = [...new Set(ids)];
  const states = new Map<string, UserState | null>();
  if (unique.length === 0) return states;
  const rows = await tx.$queryRaw<
    {
      id: string;
      email: string;
      name: string;
      is_deleted: boolean;
      version: number;
      created_at: Date;
      updated_at: Date;
      deleted_at: Date | null;
      last_login_at: Date | null;
      roles: Record<string, string>;
    }[]
  >`
    SELECT u.id::text, u.email, u.name, u.is_deleted, u.version, u.created_at, u.updated_at, u.deleted_at, u.last_login_at,
      COALESCE((SELECT jsonb_object_agg(ur.role_id::text, ur.role_name) FROM user_roles ur WHERE ur.user_id = u.id), '{}'::jsonb) AS roles
    FROM users u WHERE u.id = ANY(${unique}::uuid[]) FOR UPDATE`;
  for (const r of rows) {
    states.set(r.id, {
      id: r.id,
      email: r.email,
      name: r.name,
      isDeleted: r.is_deleted,
      version: r.version,
      createdAt: r.created_at.toISOString(),
      updatedAt: r.updated_at.toISOString(),
      deletedAt: iso(r.deleted_at),
      lastLoginAt: iso(r.last_login_at),
      roles: r.roles,
    });
  }
  return states;
}

async function saveUsers(tx: Tx, states: Map<string, UserState | null>, timeline: TimelineRow[], rebuild = false) {
  const touched = [...new Set(timeline.map((t) => t.aggregateId))]
    .map((id) => states.get(id))
    .filter((s): s is UserState => !!s);
  if (touched.length === 0) return;
  const json = JSON.stringify(touched);
  await tx.$executeRaw`
    INSERT INTO users (id, email, name, is_deleted, version, created_at, updated_at, deleted_at, last_login_at,
      email_lower, name_lower)
    SELECT s.id, s.email, s.name, s."isDeleted", s.version, s."createdAt", s."updatedAt", s."deletedAt", s."lastLoginAt",
      lower(s.email), lower(s.name)
    FROM jsonb_to_recordset(${json}::jsonb) AS s(id uuid, email text, name text, "isDeleted" boolean, version int,
      "createdAt" timestamptz, "updatedAt" timestamptz, "deletedAt" timestamptz, "lastLoginAt" timestamptz)
    ON CONFLICT (id) DO UPDATE SET email = excluded.email, name = excluded.name, email_lower = excluded.email_lower,
      name_lower = excluded.name_lower, is_deleted = excluded.is_deleted,
      version = excluded.version, updated_at = excluded.updated_at, deleted_at = excluded.deleted_at,
      last_login_at = excluded.last_login_at`;
  // Only the (user, role) pairs this batch assigned or unassigned change; every
  // other membership row stays as it is.
  const changed = new Map<string, { userId: string; roleId: string }>();
  for (const t of timeline) {
    if (t.type !== "RoleAssignedToUser" && t.type !== "RoleUnassignedFromUser") continue;
    const roleId = (t.payload as { roleId: string }).roleId;
    changed.set(`${t.aggregateId}/${roleId}`, { userId: t.aggregateId, roleId });
  }
  if (changed.size) {
    const pairs = [...changed.values()];
    await tx.$executeRaw`
      DELETE FROM user_roles ur USING jsonb_to_recordset(${JSON.stringify(pairs)}::jsonb) AS p("userId" uuid, "roleId" uuid)
      WHERE ur.user_id = p."userId" AND ur.role_id = p."roleId"`;
    const held = pairs.flatMap(({ userId, roleId }) => {
      const roleName = states.get(userId)?.roles[roleId];
      return roleName === undefined ? [] : [{ userId, roleId, roleName, assignedAt: assignedAt(timeline, userId, roleId) }];
    });
    if (held.length) {
      await tx.$executeRaw`
        INSERT INTO user_roles (user_id, role_id, role_name, assigned_at)
        SELECT a."userId", a."roleId", a."roleName", a."assignedAt"
        FROM jsonb_to_recordset(${JSON.stringify(held)}::jsonb)
          AS a("userId" uuid, "roleId" uuid, "roleName" text, "assignedAt" timestamptz)`;
    }
  }
  await insertTimeline(tx, "users", timeline);
  if (!rebuild) await repairStreamHeads(tx, "user", touched);
}

/** When the role was last assigned in this batch (a pair still held after a change was assigned in it). */
function assignedAt(timeline: TimelineRow[], userId: string, roleId: string): string | null {
  for (let i = timeline.length - 1; i >= 0; i--) {
    const t = timeline[i]!;
    if (t.aggregateId === userId && t.type === "RoleAssignedToUser" && (t.payload as { roleId: string }).roleId === roleId) {
      return t.occurredAt;
    }
  }
  return null;
}

async function loadRoles(tx: Tx, ids: string[]): Promise<Map<string, RoleState | null>> {
  const unique = [...new Set(ids)];
  const states = new Map<string, RoleState | null>();
  if (unique.length === 0) return states;
  const rows = await tx.$queryRaw<
    {
      id: string;
      name: string;
      description: string;
      permissions: string[] | null;
      built_in: boolean;
      is_deleted: boolean;
      version: number;
      created_at: Date;
      updated_at: Date;
      deleted_at: Date | null;
    }[]
  >`SELECT id::text, name, description, permissions, built_in, is_deleted, version, created_at, updated_at, deleted_at
    FROM roles WHERE id = ANY(${unique}::uuid[]) FOR UPDATE`;
  for (const r of rows) {
    states.set(r.id, {
      id: r.id,
      name: r.name,
      description: r.description,
      permissions: r.permissions ?? [],
      builtIn: r.built_in,
      isDeleted: r.is_deleted,
      version: r.version,
      createdAt: r.created_at.toISOString(),
      updatedAt: r.updated_at.toISOString(),
      deletedAt: iso(r.deleted_at),
    });
  }
  return states;
}

async function saveRoles(tx: Tx, states: Map<string, RoleState | null>, timeline: TimelineRow[], rebuild = false) {
  const touched = [...new Set(timeline.map((t) => t.aggregateId))]
    .map((id) => states.get(id))
    .filter((s): s is RoleState => !!s);
  if (touched.length === 0) return;
  await tx.$executeRaw`
    INSERT INTO roles (id, name, description, permissions, built_in, is_deleted, version, created_at, updated_at, deleted_at)
    SELECT s.id, s.name, s.description, ARRAY(SELECT jsonb_array_elements_text(s.permissions)), s."builtIn",
      s."isDeleted", s.version, s."createdAt", s."updatedAt", s."deletedAt"
    FROM jsonb_to_recordset(${JSON.stringify(touched)}::jsonb) AS s(id uuid, name text, description text,
      permissions jsonb, "builtIn" boolean, "isDeleted" boolean, version int, "createdAt" timestamptz,
      "updatedAt" timestamptz, "deletedAt" timestamptz)
    ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description,
      permissions = excluded.permissions, built_in = excluded.built_in, is_deleted = excluded.is_deleted, version = excluded.version, updated_at = excluded.updated_at,
      deleted_at = excluded.deleted_at`;
  await insertTimeline(tx, "roles", timeline);
  if (!rebuild) await repairStreamHeads(tx, "role", touched);
}

/** The timeline table of each stream, and its aggregate column (constants, never input). */
const TIMELINE = {
  users: { table: Prisma.raw("user_events"), idColumn: Prisma.raw("user_id") },
  roles: { table: Prisma.raw("role_events"), idColumn: Prisma.raw("role_id") },
} as const;

async function insertTimeline(tx: Tx, stream: StreamName, rows: TimelineRow[]) {
  if (rows.length === 0) return;
  const { table, idColumn } = TIMELINE[stream];
  await tx.$executeRaw`
    INSERT INTO ${table} (event_id, ${idColumn}, sequence, type, schema_version, occurred_at, actor, correlation_id,
      causation_id, payload, changes, topic, partition, "offset")
    SELECT r."eventId", r."aggregateId", r.sequence, r.type, r."schemaVersion", r."occurredAt", r.actor,
      r."correlationId", r."causationId", r.payload, r.changes, r.topic, r.partition, r."offset"::bigint
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS r("eventId" uuid, "aggregateId" uuid, sequence int, type text,
      "schemaVersion" int, "occurredAt" timestamptz, actor jsonb, "correlationId" text, "causationId" text,
      payload jsonb, changes jsonb, topic text, partition int, "offset" text)
    ON CONFLICT (event_id) DO NOTHING`;
}

/**
 * The command side advances streams.version in the same transaction as its
 * append, so normally this changes nothing. It catches the head up when the log
 * is ahead of it: an event from another service, or an append acknowledged by
 * the broker whose PostgreSQL commit then failed.
 */
async function repairStreamHeads(tx: Tx, type: "user" | "role", states: Array<UserState | RoleState>) {
  await tx.$executeRaw`
    INSERT INTO streams (id, type, version, state, updated_at)
    SELECT (s.value->>'id')::uuid, ${type}, (s.value->>'version')::int, s.value, now()
    FROM jsonb_array_elements(${JSON.stringify(states)}::jsonb) AS s(value)
    ON CONFLICT (id) DO UPDATE SET version = excluded.version, state = excluded.state, updated_at = now()
    WHERE streams.version < excluded.version`;
}
