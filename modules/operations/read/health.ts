/**
 * What the health page and /api/ready judge (server only): per partition, where
 * the log ends, where the projector is and how far behind; which partitions are
 * stalled and why (stall.ts has the rule); the projector and notifier instances,
 * crashed ones included; the notifiers' groups; a rebuild replay's failures;
 * events per minute over the last hour; dead letters and their DLQ copies.
 */
import type { Admin } from "kafkajs";
import type { Db } from "@/lib/db";
import { fetchEndOffsets, type PartitionEnd } from "@/lib/kafka/offsets";
import {
  isNotifierStalled,
  isStalled,
  mayBeStalled,
  stalledForMs,
  type PartitionError,
  type StalledPartition,
} from "./stall";
import { withTimeout } from "@/lib/timeout";

/** An instance whose last heartbeat is older than this is shown as gone. */
export const ALIVE_WITHIN_MS = 15_000;
/** Gone instances stay listed (greyed) this long, so a crash is visible. */
const GONE_LISTED_FOR = "15 minutes";

export interface PartitionHealth {
  partition: number;
  endOffset: bigint;
  /** The projector's next offset, or null if it has not projected this partition yet. */
  position: bigint | null;
  lag: bigint;
  /** Kafka timestamp of the last message projected. */
  lastEventAt: Date | null;
  /** When that batch was committed. */
  projectedAt: Date | null;
}

export interface TopicHealth {
  topic: string;
  /** Partitions behind first (most behind first), then the rest in partition order. */
  partitions: PartitionHealth[];
  endOffset: bigint;
  lag: bigint;
  behind: number;
  lastEventAt: Date | null;
}

export interface StoredPosition {
  topic: string;
  partition: number;
  nextOffset: bigint;
  updatedAt: Date;
  lastEventAt: Date | null;
}

/** Joins the log's ends with the stored positions; pure (unit-tested). */
export function topicHealth(topic: string, ends: PartitionEnd[], positions: StoredPosition[]): TopicHealth {
  const at = new Map(positions.filter((p) => p.topic === topic).map((p) => [p.partition, p]));
  const partitions = ends
    .filter((e) => e.topic === topic)
    .map((e): PartitionHealth => {
      const stored = at.get(e.partition);
      // Not projected yet: the projector starts from the beginning of what the log still holds.
      const from = stored?.nextOffset ?? e.low;
      const lag = e.high > from ? e.high - from : 0n;
      return {
        partition: e.partition,
        endOffset: e.high,
        position: stored?.nextOffset ?? null,
        lag,
        lastEventAt: stored?.lastEventAt ?? null,
        projectedAt: stored?.updatedAt ?? null,
      };
    })
    .sort((a, b) => (a.lag === b.lag ? a.partition - b.partition : a.lag > b.lag ? -1 : 1));
  const latest = partitions.reduce<Date | null>(
    (max, p) => (p.lastEventAt && (!max || p.lastEventAt > max) ? p.lastEventAt : max),
    null,
  );
  return {
    topic,
    partitions,
    endOffset: partitions.reduce((n, p) => n + p.endOffset, 0n),
    lag: partitions.reduce((n, p) => n + p.lag, 0n),
    behind: partitions.filter((p) => p.lag > 0n).length,
    lastEventAt: latest,
  };
}

export type InstanceStatus = "alive" | "crashed" | "stuck" | "no heartbeat" | "stopped";

export interface ProjectorInstanceView {
  instanceId: string;
  consumerGroup: string;
  host: string;
  pid: number;
  metricsPort: number | null;
  startedAt: Date;
  lastHeartbeatAt: Date;
  stoppedAt: Date | null;
  /**
   * Alive = not stopped, a heartbeat within ALIVE_WITHIN_MS and its consumer running. The
   * consumers heartbeat only while their loop proves it runs, and say "crashed" while kafkajs
   * waits to restart a crashed consumer: neither a hung loop nor a crashed one is ever alive.
   */
  isAlive: boolean;
  status: InstanceStatus;
  /** The consumer's last crash (kept after a restart, so a flapping consumer shows). */
  lastError: string | null;
  lastErrorAt: Date | null;
  /** Times its consumer was restarted in this process after a crash. */
  restarts: number;
  /** { topic: partitions } as Kafka assigned them (empty unless alive). */
  assignment: Record<string, number[]>;
}

/**
 * Pure part of the instances' status (unit-tested). "stuck": the process is there (it says so
 * every heartbeat period, through last_error_at) but its consumer loop neither fetches nor
 * finishes a batch, so it withholds its heartbeat and says why; once it stops saying so, it is
 * "no heartbeat" like any silent instance.
 */
export function instanceStatus(row: {
  stoppedAt: Date | null;
  heartbeatFresh: boolean;
  consumerState: string;
  errorFresh?: boolean;
}): InstanceStatus {
  if (row.stoppedAt) return "stopped";
  if (row.consumerState === "stuck") return row.errorFresh ? "stuck" : "no heartbeat";
  // Anything else but "running" (a state this page does not know yet included) is not alive.
  if (row.consumerState !== "running") return "crashed";
  return row.heartbeatFresh ? "alive" : "no heartbeat";
}

/** The instances of the projector group; see listConsumerInstances. */
export async function listProjectorInstances(db: Db, group: string): Promise<ProjectorInstanceView[]> {
  return listConsumerInstances(db, [group]);
}

/**
 * Instances of these consumer groups (the projector's, the notifiers'), live ones first.
 * Gone ones stay listed GONE_LISTED_FOR after their last sign of life, so a crash stays visible.
 */
export async function listConsumerInstances(db: Db, groups: readonly string[]): Promise<ProjectorInstanceView[]> {
  if (groups.length === 0) return [];
  const rows = await db.$queryRaw<
    {
      instance_id: string;
      consumer_group: string;
      host: string;
      pid: number;
      metrics_port: number | null;
      started_at: Date;
      last_heartbeat_at: Date;
      stopped_at: Date | null;
      assignment: unknown;
      consumer_state: string;
      last_error: string | null;
      last_error_at: Date | null;
      restarts: number;
      heartbeat_fresh: boolean;
      error_fresh: boolean;
    }[]
  >`
    SELECT instance_id, consumer_group, host, pid, metrics_port, started_at, last_heartbeat_at, stopped_at, assignment,
      consumer_state, last_error, last_error_at, restarts,
      -- The database's clock wrote the heartbeats: judge them by it, not by this server's.
      last_heartbeat_at > now() - ${ALIVE_WITHIN_MS} * interval '1 millisecond' AS heartbeat_fresh,
      COALESCE(last_error_at > now() - ${ALIVE_WITHIN_MS} * interval '1 millisecond', false) AS error_fresh
    FROM projector_instances
    WHERE consumer_group = ANY(${[...groups]}::text[])
      AND GREATEST(last_heartbeat_at, last_error_at) > now() - ${GONE_LISTED_FOR}::interval
    ORDER BY (stopped_at IS NULL AND consumer_state = 'running' AND last_heartbeat_at > now() - ${ALIVE_WITHIN_MS} * interval '1 millisecond') DESC,
      started_at DESC, instance_id`;
  return rows.map((r) => {
    const status = instanceStatus({
      stoppedAt: r.stopped_at,
      heartbeatFresh: r.heartbeat_fresh,
      consumerState: r.consumer_state,
      errorFresh: r.error_fresh,
    });
    const isAlive = status === "alive";
    return {
      instanceId: r.instance_id,
      consumerGroup: r.consumer_group,
      host: r.host,
      pid: r.pid,
      metricsPort: r.metrics_port,
      startedAt: r.started_at,
      lastHeartbeatAt: r.last_heartbeat_at,
      stoppedAt: r.stopped_at,
      isAlive,
      status,
      lastError: r.last_error,
      lastErrorAt: r.last_error_at,
      restarts: r.restarts,
      // A dead or crashed instance's last assignment is stale: Kafka has moved (or will move) it.
      // A stuck one still holds its partitions (it is in the group): that is why they wait.
      assignment: isAlive || status === "stuck" ? parseAssignment(r.assignment) : {},
    };
  });
}

function parseAssignment(raw: unknown): Record<string, number[]> {
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return {};
  const out: Record<string, number[]> = {};
  for (const [topic, list] of Object.entries(raw)) {
    if (Array.isArray(list)) out[topic] = list.filter((p): p is number => Number.isInteger(p)).sort((a, b) => a - b);
  }
  return out;
}

/** "host · pid N" of the live (or stuck: "… (stuck)") instance holding each "topic/partition". */
export function holders(instances: readonly ProjectorInstanceView[]): Map<string, string> {
  const held = new Map<string, string>();
  for (const i of instances) {
    if (!i.isAlive && i.status !== "stuck") continue;
    const who = `${i.host} · pid ${i.pid}${i.status === "stuck" ? " (stuck)" : ""}`;
    for (const [topic, ps] of Object.entries(i.assignment)) for (const p of ps) held.set(`${topic}/${p}`, who);
  }
  return held;
}

export interface Throughput {
  /** Start of each minute, oldest first (60 of them, the last is the current minute). */
  minutes: Date[];
  /** Events per minute by type, aligned with `minutes`; types with no event are left out. */
  series: { type: string; counts: number[]; total: number }[];
  total: number;
}

/** Events per minute over the last hour, by type, from the timelines (every event is in one). */
export async function eventsPerMinute(db: Db, now = new Date()): Promise<Throughput> {
  const end = new Date(Math.floor(now.getTime() / 60_000) * 60_000 + 60_000);
  const start = new Date(end.getTime() - 60 * 60_000);
  const rows = await db.$queryRaw<{ minute: Date; type: string; n: number }[]>`
    SELECT date_trunc('minute', occurred_at) AS minute, type, count(*)::int AS n
    FROM (
      SELECT occurred_at, type FROM user_events WHERE occurred_at >= ${start} AND occurred_at < ${end}
      UNION ALL
      SELECT occurred_at, type FROM role_events WHERE occurred_at >= ${start} AND occurred_at < ${end}
    ) e
    GROUP BY 1, 2`;
  return bucketByMinute(start, rows);
}

/** Pure part of eventsPerMinute (unit-tested). */
export function bucketByMinute(start: Date, rows: { minute: Date; type: string; n: number }[]): Throughput {
  const minutes = Array.from({ length: 60 }, (_, i) => new Date(start.getTime() + i * 60_000));
  const byType = new Map<string, number[]>();
  for (const r of rows) {
    const i = Math.round((r.minute.getTime() - start.getTime()) / 60_000);
    if (i < 0 || i >= 60) continue;
    let counts = byType.get(r.type);
    if (!counts) byType.set(r.type, (counts = Array<number>(60).fill(0)));
    counts[i] = (counts[i] ?? 0) + r.n;
  }
  const series = [...byType]
    .map(([type, counts]) => ({ type, counts, total: counts.reduce((a, b) => a + b, 0) }))
    .sort((a, b) => b.total - a.total || a.type.localeCompare(b.type));
  return { minutes, series, total: series.reduce((n, s) => n + s.total, 0) };
}

export interface DeadLetterHealth {
  open: number;
  total: number;
  /** Dead letters whose copy to `<topic>.dlq` is not published yet (dead_letters is that topic's outbox). */
  dlqPending: number;
  /** When the oldest of them was dead-lettered. */
  dlqOldestAt: Date | null;
  /** The oldest has waited longer than STALL_AFTER for its copy: the relay is stuck or failing. */
  dlqOverdue: boolean;
  /** The relay's most recent failure on a row still waiting. */
  dlqLastError: { error: string; attempts: number; nextAttemptAt: Date | null } | null;
}

/** A notifier's consumer group, judged like the projector with its Kafka-committed offsets. */
export interface ConsumerGroupHealth {
  group: string;
  instances: ProjectorInstanceView[];
  /** Total lag over the event topics; null when Kafka did not answer. */
  lag: bigint | null;
  stalled: StalledPartition[];
  /** Partitions with a recorded failure that are not (yet) stalled: retrying. */
  failing: PartitionError[];
}

export interface ConsumerHealth {
  checkedAt: Date;
  group: string;
  stallAfterMs: number;
  topics: TopicHealth[];
  /** Set when Kafka could not be asked: positions are shown without the log's ends, and nothing is called stalled. */
  kafkaError: string | null;
  /** The projector group's instances. */
  instances: ProjectorInstanceView[];
  /** Partitions of the event topics that no live instance holds. */
  unheld: number;
  /** The projector's stalled partitions, longest stuck first. */
  stalled: StalledPartition[];
  /** The projector's partitions with a recorded failure and lag that are not (yet) stalled. */
  failing: PartitionError[];
  notifiers: ConsumerGroupHealth[];
  /** Failures of rebuild replays (consumer groups `<group>.rebuild.<id>`). */
  rebuildErrors: PartitionError[];
}

export interface Health extends ConsumerHealth {
  throughput: Throughput;
  deadLetters: DeadLetterHealth;
  /**
   * Applied events that carry personal data in clear (not sealed: written before encryption, or
   * by a service that does not encrypt), per stream: an erasure cannot shred these (README, Privacy).
   */
  personalDataInClear: { stream: string; events: number }[];
}

export interface ConsumerHealthDeps {
  db: Db;
  admin: () => Promise<Admin>;
  group: string;
  topics: readonly string[];
  /** Consumer groups of the notifiers, shown in their own section (none: not asked). */
  notifierGroups?: readonly string[];
  stallAfterMs?: number;
  kafkaTimeoutMs?: number;
  now?: Date;
}

export const DEFAULT_STALL_AFTER_MS = 30_000;
/** The page must render when Kafka is down (that is when it matters most): its ends are then unknown. */
const KAFKA_TIMEOUT_MS = 4_000;

/** The consumer groups' positions, lag, instances, failures and stalls: what the page and /api/ready judge. */
export async function getConsumerHealth(deps: ConsumerHealthDeps): Promise<ConsumerHealth> {
  const { db, group, topics } = deps;
  const notifierGroups = deps.notifierGroups ?? [];
  const stallAfterMs = deps.stallAfterMs ?? DEFAULT_STALL_AFTER_MS;
  const now = deps.now ?? new Date();
  // Positions first, then the ends: a position never passes the end it is compared with
  // (read the other way round, a batch committed in between would show "projected past the end").
  const [positions, instances, errors, clock] = await Promise.all([
    db.projectionOffset.findMany({ where: { consumerGroup: group, topic: { in: [...topics] } } }),
    listConsumerInstances(db, [group, ...notifierGroups]),
    db.consumerPartitionError.findMany({
      where: { OR: [{ consumerGroup: { in: [group, ...notifierGroups] } }, { consumerGroup: { startsWith: `${group}.rebuild.` } }] },
      orderBy: [{ topic: "asc" }, { partition: "asc" }],
    }),
    db.$queryRaw<{ now: Date }[]>`SELECT now() AS now`,
  ]);
  // Positions, failures and heartbeats carry the database's clock: judge them by it.
  const dbNow = clock[0]?.now ?? now;
  const errorAt = new Map(errors.map((e) => [`${e.consumerGroup}|${e.topic}/${e.partition}`, e]));
  const projectorInstances = instances.filter((i) => i.consumerGroup === group);

  let kafkaError: string | null = null;
  let ends: PartitionEnd[] = [];
  let committed = new Map<string, Map<string, bigint | null>>();
  let writtenSince = new Map<string, bigint>();
  const projectorFacts = (ends: PartitionEnd[]) => {
    const held = holders(projectorInstances);
    return topics.map((topic) => {
      const health = topicHealth(topic, ends, positions);
      return health.partitions.map((p) => ({
        topic,
        p,
        facts: { lag: p.lag, from: p.endOffset - p.lag, movedAt: p.projectedAt },
        heldBy: held.get(`${topic}/${p.partition}`) ?? null,
      }));
    }).flat();
  };
  try {
    await withTimeout(
      (async () => {
        const admin = await deps.admin();
        // Committed offsets before the ends, for the same reason as the positions above.
        committed = new Map(
          await Promise.all(notifierGroups.map(async (g) => [g, await fetchCommitted(admin, g, topics)] as const)),
        );
        ends = await fetchEndOffsets(admin, topics);
        // Ask Kafka for the age of what waits only on topics where something may be stalled.
        const suspect = new Set<string>();
        for (const f of projectorFacts(ends)) if (mayBeStalled(f.facts, dbNow, stallAfterMs)) suspect.add(f.topic);
        for (const g of notifierGroups) {
          const held = holders(instances.filter((i) => i.consumerGroup === g));
          for (const e of ends) {
            const n = notifierPosition(e, committed.get(g));
            if (n.lag > 0n && (errorAt.has(`${g}|${e.topic}/${e.partition}`) || !held.has(`${e.topic}/${e.partition}`))) suspect.add(e.topic);
          }
        }
        writtenSince = await fetchWrittenSince(admin, [...suspect], now.getTime() - stallAfterMs);
      })(),
      deps.kafkaTimeoutMs ?? KAFKA_TIMEOUT_MS,
      "Kafka did not answer",
    );
  } catch (error) {
    kafkaError = error instanceof Error ? error.message : String(error);
    // Without the ends, the stored positions are all there is to show.
    ends = positions.map((p) => ({ topic: p.topic, partition: p.partition, low: 0n, high: p.nextOffset }));
    writtenSince = new Map();
  }

  const stalled: StalledPartition[] = [];
  const stalledKeys = new Set<string>();
  for (const { topic, p, facts, heldBy } of projectorFacts(ends)) {
    if (!isStalled(facts, writtenSince.get(`${topic}/${p.partition}`), dbNow, stallAfterMs)) continue;
    const error = errorAt.get(`${group}|${topic}/${p.partition}`) ?? null;
    stalledKeys.add(`${topic}/${p.partition}`);
    stalled.push({
      consumerGroup: group,
      topic,
      partition: p.partition,
      offset: facts.from,
      lag: p.lag,
      stalledForMs: stalledForMs(facts.movedAt, error, dbNow, stallAfterMs),
      heldBy,
      error,
    });
  }
  const lagAt = new Map(ends.map((e) => [`${e.topic}/${e.partition}`, e]));
  const projectorLag = new Map(projectorFacts(ends).map((f) => [`${f.topic}/${f.p.partition}`, f.p.lag]));
  const failing = errors.filter(
    (e) =>
      e.consumerGroup === group &&
      !stalledKeys.has(`${e.topic}/${e.partition}`) &&
      // Lag 0: the partition has moved past it since (a row left behind), nothing fails now.
      (kafkaError !== null || (projectorLag.get(`${e.topic}/${e.partition}`) ?? 0n) > 0n),
  );

  const notifiers = notifierGroups.map((g): ConsumerGroupHealth => {
    const groupInstances = instances.filter((i) => i.consumerGroup === g);
    const held = holders(groupInstances);
    const groupStalled: StalledPartition[] = [];
    let lag = 0n;
    if (!kafkaError) {
      for (const e of ends) {
        const key = `${e.topic}/${e.partition}`;
        const n = notifierPosition(e, committed.get(g));
        lag += n.lag;
        const error = errorAt.get(`${g}|${key}`) ?? null;
        if (!isNotifierStalled({ ...n, failing: error !== null, held: held.has(key) }, writtenSince.get(key))) continue;
        groupStalled.push({
          consumerGroup: g,
          topic: e.topic,
          partition: e.partition,
          offset: n.from,
          lag: n.lag,
          stalledForMs: stalledForMs(null, error, dbNow, stallAfterMs),
          heldBy: held.get(key) ?? null,
          error,
        });
      }
    }
    const stalledHere = new Set(groupStalled.map((s) => `${s.topic}/${s.partition}`));
    return {
      group: g,
      instances: groupInstances,
      lag: kafkaError ? null : lag,
      stalled: groupStalled.sort(longestStuckFirst),
      failing: errors.filter((e) => {
        if (e.consumerGroup !== g || stalledHere.has(`${e.topic}/${e.partition}`)) return false;
        const end = lagAt.get(`${e.topic}/${e.partition}`);
        return kafkaError !== null || (end !== undefined && notifierPosition(end, committed.get(g)).lag > 0n);
      }),
    };
  });

  const held = holders(projectorInstances);
  return {
    checkedAt: now,
    group,
    stallAfterMs,
    topics: topics.map((topic) => topicHealth(topic, ends, positions)),
    kafkaError,
    instances: projectorInstances,
    unheld: ends.filter((e) => !held.has(`${e.topic}/${e.partition}`)).length,
    stalled: stalled.sort(longestStuckFirst),
    failing,
    notifiers,
    rebuildErrors: errors.filter((e) => e.consumerGroup.startsWith(`${group}.rebuild.`)),
  };
}

/** The consumer group a rebuild replays with (lib/projection/rebuild runs it with the job's id as run id). */
export const rebuildGroup = (group: string, id: bigint | string) => `${group}.rebuild.${id}`;

const longestStuckFirst = (a: StalledPartition, b: StalledPartition) =>
  (b.stalledForMs ?? 0) - (a.stalledForMs ?? 0) || a.topic.localeCompare(b.topic) || a.partition - b.partition;

/** A notifier's position on a partition: its committed offset, or the log's start (it reads from the beginning). */
export function notifierPosition(end: PartitionEnd, committed: Map<string, bigint | null> | undefined): { from: bigint; lag: bigint } {
  const at = committed?.get(`${end.topic}/${end.partition}`) ?? null;
  const from = at !== null && at > end.low ? at : end.low;
  return { from, lag: end.high > from ? end.high - from : 0n };
}

/** A group's committed offsets by "topic/partition" (null: nothing committed there yet). */
async function fetchCommitted(admin: Admin, groupId: string, topics: readonly string[]): Promise<Map<string, bigint | null>> {
  const out = new Map<string, bigint | null>();
  for (const t of await admin.fetchOffsets({ groupId, topics: [...topics] })) {
    for (const p of t.partitions) {
      const offset = BigInt(p.offset);
      out.set(`${t.topic}/${p.partition}`, offset >= 0n ? offset : null);
    }
  }
  return out;
}

/**
 * Per "topic/partition", the first offset written at or after `since` (ms); the log's end when
 * nothing was (kafkajs answers the high watermark then).
 */
async function fetchWrittenSince(admin: Admin, topics: readonly string[], since: number): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  for (const topic of topics) {
    for (const p of await admin.fetchTopicOffsetsByTimestamp(topic, since)) out.set(`${topic}/${p.partition}`, BigInt(p.offset));
  }
  return out;
}

/** Everything the health page shows. */
export async function getHealth(deps: ConsumerHealthDeps): Promise<Health> {
  const now = deps.now ?? new Date();
  const stallAfterMs = deps.stallAfterMs ?? DEFAULT_STALL_AFTER_MS;
  const [consumers, throughput, deadLetters, inClear] = await Promise.all([
    getConsumerHealth({ ...deps, now, stallAfterMs }),
    eventsPerMinute(deps.db, now),
    deadLetterHealth(deps.db, stallAfterMs),
    deps.db.personalDataInClear.findMany({ orderBy: { stream: "asc" } }),
  ]);
  const personalDataInClear = inClear.map((r) => ({ stream: r.stream, events: Number(r.events) }));
  return { ...consumers, throughput, deadLetters, personalDataInClear };
}

async function deadLetterHealth(db: Db, stallAfterMs: number): Promise<DeadLetterHealth> {
  const [counts, lastError] = await Promise.all([
    db.$queryRaw<{ open: number; total: number; dlq_pending: number; dlq_oldest_at: Date | null; dlq_overdue: boolean }[]>`
      SELECT count(*) FILTER (WHERE status = 'open')::int AS open, count(*)::int AS total,
        count(*) FILTER (WHERE dlq_published_at IS NULL)::int AS dlq_pending,
        min(created_at) FILTER (WHERE dlq_published_at IS NULL) AS dlq_oldest_at,
        coalesce(min(created_at) FILTER (WHERE dlq_published_at IS NULL) < now() - ${stallAfterMs} * interval '1 millisecond', false) AS dlq_overdue
      FROM dead_letters`,
    db.deadLetter.findFirst({
      where: { dlqPublishedAt: null, dlqLastError: { not: null } },
      // The latest attempt is the one whose next attempt is furthest away.
      orderBy: [{ dlqNextAttemptAt: { sort: "desc", nulls: "last" } }, { id: "desc" }],
      select: { dlqLastError: true, dlqAttempts: true, dlqNextAttemptAt: true },
    }),
  ]);
  const c = counts[0];
  return {
    open: c?.open ?? 0,
    total: c?.total ?? 0,
    dlqPending: c?.dlq_pending ?? 0,
    dlqOldestAt: c?.dlq_oldest_at ?? null,
    dlqOverdue: c?.dlq_overdue ?? false,
    dlqLastError:
      lastError?.dlqLastError != null
        ? { error: lastError.dlqLastError, attempts: lastError.dlqAttempts, nextAttemptAt: lastError.dlqNextAttemptAt }
        : null,
  };
}


/** "0–3, 7, 9–11": a compact list of partition numbers. */
export function formatPartitions(partitions: readonly number[]): string {
  const sorted = [...new Set(partitions)].sort((a, b) => a - b);
  const ranges: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    ranges.push(i === j ? `${sorted[i]}` : `${sorted[i]}–${sorted[j]}`);
    i = j + 1;
  }
  return ranges.join(", ");
}
