/**
 * One batch of one partition, applied in one PostgreSQL transaction: skip what
 * was already applied, fold the events into the touched aggregates, write
 * rows, timeline and the partition's next offset together. Position and state
 * can therefore never disagree, whatever crashes when.
 *
 * Only the mechanics live here (fence, stored position and gap check, decode,
 * partition check, dedupe by event id, dead letters, offsets, notification);
 * what an event does to the read model is the stream's module's projection
 * (lib/module.ts), handed in with the composition.
 */
import { Prisma } from "@/generated/prisma/client";
import type { BatchTx, SqlTx } from "@/lib/sql-tx";
import type { AnyEvent } from "@/lib/events/envelope";
import { LONE_SURROGATE } from "@/lib/events/codec";
import { keyPartition } from "@/lib/kafka/partitioner";
import { MAX_NOTIFIED_IDS, READ_MODEL_CHANNEL } from "@/lib/live/live-message";
import type { Logger } from "@/lib/log";
import type { Composition } from "@/lib/module";
import type { PersonalDataKeys } from "@/lib/privacy/key-store";
import { wantedKeys, type KeyRing } from "@/lib/privacy/personal-data";
import { scrubErasedPerson } from "@/lib/privacy/scrub";
import { positionGap } from "./positions";
import { CannotApplyEventError, inTimeline, type TimelineRow } from "./timeline";

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
  applied: AnyEvent[];
  deadLetters: DeadLetter[];
  skipped: number;
}

export interface BatchInput {
  group: string;
  topic: string;
  partition: number;
  stream: string;
  /** The modules: their serde reads the messages, the stream's projection applies them. */
  app: Pick<Composition, "serde" | "projectionOf" | "modules" | "registry">;
  /** The key store: the keys to reveal the batch's personal data, and erasures (lib/privacy). */
  personalData: Pick<PersonalDataKeys, "ring" | "erase">;
  /** The topic's partition count: an event must sit on its aggregate id's murmur2 partition. */
  partitions: number;
  /**
   * The offset the consumer fetched this batch from (kafkajs `batch.fetchedOffset`). Beyond
   * the stored position it means a gap; the first message's offset cannot tell, as control
   * records of transactional producers legitimately take offsets.
   */
  fetchedOffset?: string;
  /**
   * The partition's first offset in the log, asked of Kafka only when no position is stored and the
   * batch was fetched from past 0: with nothing of the partition in the database, a fetch from
   * anywhere past the log's start is a gap too (the read model wiped, or restored from before the
   * partition's first batch, while the consumer fetches on from its position in memory).
   */
  logStart?: () => Promise<string>;
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
 * transaction (applyBatch's first statement); a rebuild's switch takes it exclusively
 * (`lockProjectionFence`), which waits for the batches in flight and holds new ones back: the live
 * positions stay put while the rebuild closes its last gap, and no batch can
 * land in the old tables after the swap. Advisory, so nothing is written to take it.
 */
export async function lockProjectionFence(tx: SqlTx, group: string): Promise<void> {
  await tx.$queryRaw`SELECT pg_advisory_xact_lock(${FENCE_CLASS}::int, hashtext(${group}))::text`;
}

/**
 * Applies the batch inside `tx`. Dead letters are rows of `dead_letters` in the
 * same transaction as the new position: never lost, and never a reason to hold
 * the partition up. Their copies to `<topic>.dlq` are sent after the commit, in
 * bounded requests, by the dead-letter relay (./dead-letter-relay.ts).
 */
export async function applyBatch(tx: BatchTx, input: BatchInput): Promise<BatchOutcome> {
  const [outcome] = await applyBatches(tx, [input]);
  return outcome!;
}

/**
 * Applies the batches of several partitions (of one consumer group) in one transaction, each
 * exactly as `applyBatch` applies it alone, with one statement for what they all do: the fence,
 * their stored positions, the keys, the dedupe, the aggregates' load and save per stream, the dead
 * letters, the new positions and notifications. At a few hundred events a second a fetch holds
 * one or two events per partition, so per-partition statements were most of the projector's cost
 * (bench/PERFORMANCE.md, ninth session). A partition's outcome is its own: one refused for a gap
 * applies nothing, the others go on. The transaction is all or nothing: if it throws, no partition
 * moved (the projector then retries them one by one, so a failure is recorded where it belongs).
 */
export async function applyBatches(tx: BatchTx, inputs: readonly BatchInput[]): Promise<BatchOutcome[]> {
  const first = inputs[0];
  if (!first) return [];
  const { group, personalData } = first;
  const rebuild = first.rebuild ?? false;
  if (inputs.some((i) => i.group !== group || (i.rebuild ?? false) !== rebuild)) {
    throw new Error("applyBatches: the batches of one transaction must share their consumer group and kind (live or rebuild)");
  }
  // A lock held elsewhere (a migration, a stray session) must not hang the batch without a word:
  // it fails, is recorded against its partition for the health page, and is retried.
  // With the live batch's fence, one statement, one round trip (bench/PERFORMANCE.md, eighth
  // session). Its expressions run in order, so the lock timeout bounds the fence's wait.
  // Deferred: it rides, with BEGIN, in the round trip of the positions' read below.
  const fence = rebuild ? Prisma.empty : Prisma.sql`, pg_advisory_xact_lock_shared(${FENCE_CLASS}::int, hashtext(${group}))::text`;
  tx.defer`SELECT set_config('lock_timeout', ${BATCH_LOCK_TIMEOUT}, true),
    set_config('statement_timeout', ${rebuild ? "0" : BATCH_STATEMENT_TIMEOUT}, true)${fence}`;
  // Ordered, so two transactions locking rows of the same partitions could not deadlock.
  const storedRows = await tx.$queryRaw<{ topic: string; partition: number; next_offset: bigint }[]>`
    SELECT topic, partition, next_offset FROM projection_offsets
    WHERE consumer_group = ${group}
      AND (topic, partition) IN (SELECT * FROM unnest(${inputs.map((i) => i.topic)}::text[], ${inputs.map((i) => i.partition)}::int[]))
    ORDER BY topic, partition FOR UPDATE`;
  const storedOf = new Map(storedRows.map((r) => [positionKey(r.topic, r.partition), r.next_offset]));

  const outcomes: BatchOutcome[] = [];
  const live: { input: BatchInput; outcome: BatchOutcome; fresh: readonly RawMessage[] }[] = [];
  for (const input of inputs) {
    const stored = storedOf.get(positionKey(input.topic, input.partition));
    const outcome = await checkedOutcome(input, stored);
    outcomes.push(outcome);
    if (outcome.gapFrom !== undefined) continue;
    const from = stored ?? -1n;
    const fresh = input.messages.filter((m) => BigInt(m.offset) >= from);
    outcome.skipped = input.messages.length - fresh.length;
    if (fresh.length) live.push({ input, outcome, fresh });
  }
  if (live.length === 0) return outcomes;

  // The keys these batches' personal data needs, and which of their people are erased: one query.
  const ring = await personalData.ring(tx, wantedKeys(live.flatMap((b) => b.fresh)));
  const decoded = live.map((b) => ({ ...b, decoded: decode(b.input, b.outcome, b.fresh, ring) }));

  // Streams in one order in every transaction: rows they share (personal_data_in_clear) are locked
  // in that order, so two transactions cannot deadlock on them.
  for (const stream of [...new Set(live.map((b) => b.input.stream))].sort()) {
    await applyStream(tx, stream, decoded.filter((b) => b.input.stream === stream), rebuild);
  }

  const deadLetters = live.flatMap((b) => b.outcome.deadLetters);
  if (deadLetters.length && !rebuild) {
    tx.defer`
      INSERT INTO dead_letters (topic, partition, "offset", key, reason, value, headers)
      SELECT d.topic, d.partition, d."offset"::bigint, d.key, d.reason, d.value, d.headers
      FROM jsonb_to_recordset(${JSON.stringify(deadLetters.map(storableDeadLetter))}::jsonb)
        AS d(topic text, partition int, "offset" text, key text, reason text, value text, headers jsonb)
      ON CONFLICT (topic, partition, "offset") DO NOTHING`;
  }
  const savePositions = Prisma.sql`
    INSERT INTO projection_offsets (consumer_group, topic, partition, next_offset, updated_at, last_event_at)
    SELECT ${group}, p.topic, p.partition, p.next_offset, now(), p.last_event_at
    FROM unnest(${live.map((b) => b.input.topic)}::text[], ${live.map((b) => b.input.partition)}::int[],
      ${live.map((b) => b.outcome.nextOffset!)}::bigint[], ${live.map((b) => kafkaTime(b.fresh.at(-1)?.timestamp))}::timestamptz[])
      AS p(topic, partition, next_offset, last_event_at)
    ON CONFLICT (consumer_group, topic, partition)
    DO UPDATE SET next_offset = excluded.next_offset, updated_at = now(),
      last_event_at = COALESCE(excluded.last_event_at, projection_offsets.last_event_at)`;
  // The batch's writes from here on (and the modules' upserts before) ride with the COMMIT: one round trip.
  if (rebuild) {
    tx.defer(savePositions);
    return outcomes;
  }
  // The positions and the console's notifications (one a partition) in one statement.
  const notices = live.map(({ input, outcome }) =>
    JSON.stringify({
      topic: input.topic,
      partition: input.partition,
      nextOffset: outcome.nextOffset,
      ids: [...new Set(outcome.applied.map((e) => e.aggregateId))].slice(0, MAX_NOTIFIED_IDS),
    }),
  );
  tx.defer`
    WITH saved AS (${savePositions} RETURNING 1)
    SELECT pg_notify(${READ_MODEL_CHANNEL}, n) FROM unnest(${notices}::text[]) AS n WHERE EXISTS (SELECT FROM saved)`;
  return outcomes;
}

type Decoded = { event: AnyEvent; offset: string; clearSubjects?: string[] };

const positionKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/**
 * The batch's outcome before anything is applied: refused (gapFrom) when it was fetched from past
 * the stored position, or, with none stored, past the log's start.
 */
async function checkedOutcome(input: BatchInput, stored: bigint | undefined): Promise<BatchOutcome> {
  const { topic, partition } = input;
  const last = input.messages.at(-1);
  const outcome: BatchOutcome = { nextOffset: last ? String(BigInt(last.offset) + 1n) : null, applied: [], deadLetters: [], skipped: 0 };
  const gap = await positionGap(stored, input.fetchedOffset, input.rebuild ? undefined : input.logStart);
  if (!gap) return outcome;
  input.logger?.warn(
    { topic, partition, storedPosition: gap.storedPosition, logStart: gap.logStart, fetchedOffset: input.fetchedOffset },
    gap.storedPosition === null
      ? "batch fetched past the log's start with no position stored: refused; seeking back to the start"
      : "batch fetched past the stored position: refused; seeking back",
  );
  return { nextOffset: null, gapFrom: gap.gapFrom, applied: [], deadLetters: [], skipped: 0 };
}

/** Reads the messages; one that does not decode, or sits on the wrong partition for its aggregate, is a dead letter. */
function decode(input: BatchInput, outcome: BatchOutcome, fresh: readonly RawMessage[], ring: KeyRing): Decoded[] {
  const { partition } = input;
  const decoded: Decoded[] = [];
  for (const m of fresh) {
    const key = m.key?.toString("utf8") ?? null;
    const result = input.app.serde.decode(m.value, input.stream, key, ring);
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
    } else decoded.push({ event: result.event, offset: m.offset, clearSubjects: result.clearSubjects });
  }
  return decoded;
}

/** One stream's part of the transaction: dedupe, one load, the folds in log order per partition, one save. */
async function applyStream(
  tx: BatchTx,
  stream: string,
  batches: { input: BatchInput; outcome: BatchOutcome; fresh: readonly RawMessage[]; decoded: Decoded[] }[],
  rebuild: boolean,
) {
  const { app, personalData } = batches[0]!.input;
  const projection = app.projectionOf(stream);
  // The event id is the idempotency key: an event published twice is applied once.
  // Within the batch too: a message republished (e.g. by a producer retry) can sit beside its twin.
  const seen = await inTimeline(tx, projection.timeline, batches.flatMap((b) => b.decoded.map((d) => d.event.id)));
  const pendingOf = batches.map((b) => {
    const pending = b.decoded.filter((d) => {
      if (seen.has(d.event.id)) {
        b.input.logger?.debug(
          { eventId: d.event.id, type: d.event.type, offset: d.offset, correlationId: d.event.correlationId },
          "event already projected, skipped",
        );
        return false;
      }
      seen.add(d.event.id);
      return true;
    });
    b.outcome.skipped += b.decoded.length - pending.length;
    return pending;
  });

  // Folds each event into its aggregate's state; one that cannot follow that
  // state (e.g. an update of an unknown user) is dead-lettered, not retried forever.
  // An aggregate's events all sit on its one partition, so the partitions' order among themselves does not matter.
  const states = await projection.load(tx, pendingOf.flatMap((pending) => pending.map((d) => d.event.aggregateId)));
  const rows: TimelineRow[] = [];
  let inClear = 0;
  batches.forEach(({ input, outcome, fresh }, i) => {
    for (const { event, offset, clearSubjects } of pendingOf[i]!) {
      try {
        const row = projection.project(states, event, { topic: input.topic, partition: input.partition, offset });
        if (clearSubjects) {
          row.clearSubjects = clearSubjects;
          inClear += 1;
        }
        rows.push(row);
        outcome.applied.push(event);
      } catch (error) {
        if (!(error instanceof CannotApplyEventError)) throw error;
        outcome.deadLetters.push(deadLetter(input, fresh.find((m) => m.offset === offset)!, error.message));
      }
    }
  });
  await projection.save(tx, states, rows, { rebuild });
  if (inClear) {
    tx.defer`
      INSERT INTO personal_data_in_clear (stream, events) VALUES (${stream}, ${inClear})
      ON CONFLICT (stream) DO UPDATE SET events = personal_data_in_clear.events + excluded.events`;
  }
  // An erasure: the person's key is destroyed (again: the command did it; idempotent) and the read
  // model scrubbed, so it equals what a replay without the key gives.
  for (const { outcome } of batches) {
    for (const event of outcome.applied) {
      if (!app.registry[event.type]?.erasesPerson) continue;
      if (!rebuild) await personalData.erase(tx, event.aggregateId);
      await scrubErasedPerson(tx, app, stream, event.aggregateId, { rebuild });
    }
  }
}

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
