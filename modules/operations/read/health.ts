/**
 * What the health page shows (server only): per partition, where the log ends,
 * where the projector is and how far behind; the projector instances and the
 * partitions each holds; events per minute over the last hour; dead letters.
 */
import type { Admin } from "kafkajs";
import type { Db } from "@/lib/db";
import { fetchEndOffsets, type PartitionEnd } from "@/lib/kafka/offsets";

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

export interface ProjectorInstanceView {
  instanceId: string;
  host: string;
  pid: number;
  metricsPort: number | null;
  startedAt: Date;
  lastHeartbeatAt: Date;
  stoppedAt: Date | null;
  isAlive: boolean;
  /** { topic: partitions } as Kafka assigned them (empty once gone). */
  assignment: Record<string, number[]>;
}

export async function listProjectorInstances(db: Db, group: string): Promise<ProjectorInstanceView[]> {
  const rows = await db.$queryRaw<
    {
      instance_id: string;
      host: string;
      pid: number;
      metrics_port: number | null;
      started_at: Date;
      last_heartbeat_at: Date;
      stopped_at: Date | null;
      assignment: unknown;
      is_alive: boolean;
    }[]
  >`
    SELECT instance_id, host, pid, metrics_port, started_at, last_heartbeat_at, stopped_at, assignment,
      -- The database's clock wrote the heartbeats: judge them by it, not by this server's.
      (stopped_at IS NULL AND last_heartbeat_at > now() - ${ALIVE_WITHIN_MS} * interval '1 millisecond') AS is_alive
    FROM projector_instances
    WHERE consumer_group = ${group} AND last_heartbeat_at > now() - ${GONE_LISTED_FOR}::interval
    ORDER BY is_alive DESC, started_at DESC, instance_id`;
  return rows.map((r) => {
    const isAlive = r.is_alive;
    return {
      instanceId: r.instance_id,
      host: r.host,
      pid: r.pid,
      metricsPort: r.metrics_port,
      startedAt: r.started_at,
      lastHeartbeatAt: r.last_heartbeat_at,
      stoppedAt: r.stopped_at,
      isAlive,
      // A dead instance's last assignment is stale: Kafka has moved (or will move) it.
      assignment: isAlive ? parseAssignment(r.assignment) : {},
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

export interface Health {
  checkedAt: Date;
  group: string;
  topics: TopicHealth[];
  /** Set when Kafka could not be asked: positions are shown without the log's ends. */
  kafkaError: string | null;
  instances: ProjectorInstanceView[];
  /** Partitions of the event topics that no live instance holds. */
  unheld: number;
  throughput: Throughput;
  deadLetters: { open: number; total: number };
}

export async function getHealth(deps: {
  db: Db;
  admin: () => Promise<Admin>;
  group: string;
  topics: readonly string[];
  now?: Date;
}): Promise<Health> {
  const { db, group, topics } = deps;
  const now = deps.now ?? new Date();
  // Positions first, then the ends: a position never passes the end it is compared with
  // (read the other way round, a batch committed in between would show "projected past the end").
  const [positions, instances, throughput, deadLetters] = await Promise.all([
    db.projectionOffset.findMany({ where: { consumerGroup: group, topic: { in: [...topics] } } }),
    listProjectorInstances(db, group),
    eventsPerMinute(db, now),
    db.$queryRaw<{ open: number; total: number }[]>`
      SELECT count(*) FILTER (WHERE status = 'open')::int AS open, count(*)::int AS total FROM dead_letters`,
  ]);
  let ends: PartitionEnd[] = [];
  let kafkaError: string | null = null;
  try {
    ends = await withTimeout(
      (async () => fetchEndOffsets(await deps.admin(), topics))(),
      KAFKA_TIMEOUT_MS,
      "Kafka did not answer",
    );
  } catch (error) {
    kafkaError = error instanceof Error ? error.message : String(error);
  }
  if (kafkaError) {
    // Without the ends, the stored positions are all there is to show.
    ends = positions.map((p) => ({ topic: p.topic, partition: p.partition, low: 0n, high: p.nextOffset }));
  }
  const held = new Set(
    instances.flatMap((i) => Object.entries(i.assignment).flatMap(([topic, ps]) => ps.map((p) => `${topic}/${p}`))),
  );
  return {
    checkedAt: now,
    group,
    topics: topics.map((topic) => topicHealth(topic, ends, positions)),
    kafkaError,
    instances,
    unheld: ends.filter((e) => !held.has(`${e.topic}/${e.partition}`)).length,
    throughput,
    deadLetters: deadLetters[0] ?? { open: 0, total: 0 },
  };
}

/** The page must render when Kafka is down (that is when it matters most): its ends are then unknown. */
const KAFKA_TIMEOUT_MS = 4_000;

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms / 1000} s`)), ms);
  });
  work.catch(() => {}); // a late failure after the timeout is not unhandled
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
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
