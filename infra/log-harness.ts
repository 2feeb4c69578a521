/**
 * Reading and folding the whole log, for the integration tests and the fault
 * drills (with real Kafka and PostgreSQL), and the benchmark's end offsets:
 * where each partition ends, every message up to there, the fold that the
 * read model must equal, and waiting until the projector has caught up. Tests
 * and drills hand it their clients from ./app-clients.ts.
 *
 * Like the rest of infra/, it knows no module: the fold is generic over the
 * aggregates, and the caller hands it each topic's decode and evolve (the
 * domain's own functions), so the rules that make it the projector's mirror
 * live here once: dedupe by event id, dead-letter what cannot be decoded, what
 * sits on another partition than its key's, what holds U+0000 and what cannot
 * follow its aggregate's state.
 */
import { randomBytes } from "node:crypto";
import type { Admin } from "kafkajs";
import { fetchEndOffsets, type PartitionEnd } from "@/lib/kafka/offsets";
import { keyPartition } from "@/lib/kafka/partitioner";
import type { AppClients } from "./app-clients";

export type { PartitionEnd };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every partition's first and next offset; retried while metadata lags (right after topic creation or a leader change). */
export async function endOffsets(
  clients: { admin: Admin; topics?: Record<string, string> },
  topics: readonly string[] = Object.values(clients.topics ?? {}),
): Promise<PartitionEnd[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetchEndOffsets(clients.admin, topics);
    } catch (error) {
      if (attempt >= 20) throw error;
      await sleep(500);
    }
  }
}

/** How many messages the partitions hold. */
export const totalMessages = (ends: ReadonlyArray<{ low: bigint; high: bigint }>) => ends.reduce((sum, e) => sum + Number(e.high - e.low), 0);

export interface LogMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  /** The bytes as written (null for a tombstone). */
  value: Buffer | null;
  headers: Record<string, string>;
}

/** Every message of `topics` from the beginning to their end as of the call, by topic, partition and offset. */
export async function readLog(
  clients: Pick<AppClients, "kafka" | "admin" | "topics">,
  topics: readonly string[] = Object.values(clients.topics),
  timeoutMs = 120_000,
): Promise<LogMessage[]> {
  const ends = new Map<string, bigint>();
  for (const e of await endOffsets(clients, topics)) if (e.high > e.low) ends.set(`${e.topic}/${e.partition}`, e.high);
  const messages: LogMessage[] = [];
  if (ends.size === 0) return messages;
  const consumer = clients.kafka.consumer({ groupId: `log-reader-${randomBytes(4).toString("hex")}`, maxBytes: 50 * 1024 * 1024 });
  await consumer.connect();
  try {
    for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const remaining = new Set(ends.keys());
      const timer = setTimeout(
        () => reject(new Error(`log not fully read within ${timeoutMs} ms: ${[...remaining].slice(0, 5).join(", ")}`)),
        timeoutMs,
      );
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const k = `${batch.topic}/${batch.partition}`;
            const end = ends.get(k) ?? 0n;
            for (const m of batch.messages) {
              if (BigInt(m.offset) >= end) break;
              messages.push({
                topic: batch.topic,
                partition: batch.partition,
                offset: m.offset,
                key: m.key?.toString("utf8") ?? null,
                value: m.value ?? null,
                headers: Object.fromEntries(Object.entries(m.headers ?? {}).map(([h, v]) => [h, String(v)])),
              });
              if (BigInt(m.offset) + 1n >= end) remaining.delete(k);
            }
            if (remaining.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return messages.sort(
    (a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)),
  );
}

/**
 * Waits until the projector group's stored positions (projection_offsets)
 * reach the end of every event partition, re-reading the ends as it goes.
 */
export async function waitUntilCaughtUp(
  clients: Pick<AppClients, "admin" | "db" | "config" | "topics">,
  timeoutMs = 30_000,
  /** Told how many messages are still behind, every 5 s. */
  progress?: (behind: number) => void,
  /** Returns a reason to give up early (e.g. the projector process exited). */
  abortIf?: () => string | undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastPrint = 0;
  for (;;) {
    const ends = (await endOffsets(clients)).filter((e) => e.high > 0n);
    let behind: PartitionEnd[] | null;
    try {
      const rows = await clients.db.$queryRaw<{ topic: string; partition: number; next_offset: bigint }[]>`
        SELECT topic, partition, next_offset FROM projection_offsets WHERE consumer_group = ${clients.config.PROJECTOR_GROUP_ID}`;
      const at = new Map(rows.map((r) => [`${r.topic}/${r.partition}`, BigInt(r.next_offset)]));
      behind = ends.map((e) => ({ ...e, low: at.get(`${e.topic}/${e.partition}`) ?? 0n })).filter((e) => e.low < e.high);
    } catch {
      behind = null; // the database is unreachable right now (a drill restarting it)
    }
    if (behind?.length === 0) return;
    const count = behind ? totalMessages(behind) : -1;
    if (progress && Date.now() - lastPrint > 5_000) {
      lastPrint = Date.now();
      progress(count);
    }
    const where = behind ? `: ${behind.slice(0, 5).map((b) => `${b.topic}/${b.partition}`).join(", ")}` : " (database unreachable)";
    if (Date.now() > deadline) throw new Error(`projector still ${count} messages behind after ${timeoutMs} ms${where}`);
    const abort = abortIf?.();
    if (abort) throw new Error(`projector ${count} messages behind: ${abort}`);
    await sleep(100);
  }
}

/** One aggregate type's topic as the fold reads it: the domain's own decode and evolve. */
export interface FoldStream<S, E extends FoldableEvent> {
  topic: string;
  /** The event a message holds, or not ok when the projector would dead-letter it as unreadable. */
  decode(message: LogMessage): { ok: true; event: E } | { ok: false };
  /** Throws (an error `cannotApply` recognises) for an event that cannot follow the state. */
  evolve(state: S | null, event: E): S;
}

export interface FoldableEvent {
  id: string;
  aggregateId: string;
}

export interface LogFold<M extends Record<string, unknown>, E extends FoldableEvent = FoldableEvent> {
  /** Per aggregate type (the keys of `streams`), each aggregate's folded state. */
  states: { [K in keyof M]: Map<string, M[K]> };
  /** The events the projector must apply, in log order, with their messages (for timelines). */
  applied: Array<{ stream: keyof M; event: E; message: LogMessage }>;
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

export const posKey = (topic: string, partition: number, offset: string | bigint) => `${topic}/${partition}/${offset}`;

/**
 * What the read model must hold: the fold of `log` with the projector's rules.
 * `streams` names each aggregate type with its topic, decode and evolve;
 * `cannotApply` tells an event that cannot follow its state (dead-lettered)
 * from a bug (thrown).
 */
export function foldLog<M extends Record<string, unknown>, E extends FoldableEvent>(
  log: readonly LogMessage[],
  streams: { [K in keyof M]: FoldStream<M[K], E> },
  cannotApply: (error: unknown) => boolean,
  /**
   * The event topics' partition count: given, an event on another partition
   * than its aggregate id's murmur2 partition is dead-lettered, as the projector does.
   */
  partitions?: number,
): LogFold<M, E> {
  const kinds = Object.keys(streams) as Array<keyof M>;
  const byTopic = new Map(kinds.map((kind) => [streams[kind].topic, kind]));
  const fold: LogFold<M, E> = {
    states: Object.fromEntries(kinds.map((kind) => [kind, new Map()])) as LogFold<M, E>["states"],
    applied: [],
    deadLetters: new Set(),
    eventIds: new Set(),
    duplicateIds: 0,
    byCorrelation: new Map(),
    messages: log.length,
  };
  const appliedIds = new Set<string>();
  for (const m of log) {
    const corr = m.headers.correlationId;
    if (corr) fold.byCorrelation.set(corr, (fold.byCorrelation.get(corr) ?? 0) + 1);
    const kind = byTopic.get(m.topic);
    if (kind === undefined) throw new Error(`foldLog: no stream for topic ${m.topic}`);
    const stream = streams[kind];
    const decoded = stream.decode(m);
    if (!decoded.ok) {
      fold.deadLetters.add(posKey(m.topic, m.partition, m.offset));
      continue;
    }
    const e = decoded.event;
    if (partitions !== undefined && keyPartition(e.aggregateId, partitions) !== m.partition) {
      fold.deadLetters.add(posKey(m.topic, m.partition, m.offset));
      fold.eventIds.add(e.id);
      continue;
    }
    if (m.value?.includes("\\u0000") && JSON.stringify(e).includes("\\u0000")) {
      // The projector dead-letters events whose text holds U+0000 (PostgreSQL cannot store it).
      fold.deadLetters.add(posKey(m.topic, m.partition, m.offset));
      fold.eventIds.add(e.id);
      continue;
    }
    if (fold.eventIds.has(e.id)) fold.duplicateIds++;
    fold.eventIds.add(e.id);
    // The event id is the idempotency key, as in the projector: applied once; a
    // copy of one that was dead-lettered is tried again.
    if (appliedIds.has(e.id)) continue;
    const states: Map<string, M[typeof kind]> = fold.states[kind];
    try {
      states.set(e.aggregateId, stream.evolve(states.get(e.aggregateId) ?? null, e));
      appliedIds.add(e.id);
      fold.applied.push({ stream: kind, event: e, message: m });
    } catch (error) {
      if (!cannotApply(error)) throw error;
      fold.deadLetters.add(posKey(m.topic, m.partition, m.offset));
    }
  }
  return fold;
}
