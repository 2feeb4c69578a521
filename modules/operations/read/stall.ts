/**
 * When is a consumer's partition stalled, and is the console ready? Pure
 * decisions (unit-tested in stall.unit.test.ts); health.ts gathers the facts.
 *
 * The rule is stateless (nothing remembers the previous check) and must not
 * cry wolf on a partition that was idle for an hour and just received a
 * message: "position not moved for STALL_AFTER" alone would fire at once
 * there. So a partition is stalled only when a message *older than
 * STALL_AFTER* still waits on it: the consumer has had STALL_AFTER to take it
 * and has not. Kafka answers that without reading any message: the first
 * offset written at or after now − STALL_AFTER (kafkajs
 * `admin.fetchTopicOffsetsByTimestamp`); a position below it means an older
 * message waits.
 */

/** The last failure of a consumer group on a partition (consumer_partition_errors). */
export interface PartitionError {
  consumerGroup: string;
  topic: string;
  partition: number;
  /** The offset that failed, when the consumer knew it. */
  offset: bigint | null;
  error: string;
  attempts: number;
  firstFailedAt: Date;
  lastFailedAt: Date;
}

export interface StallFacts {
  /** Messages between the consumer's position and the log's end. */
  lag: bigint;
  /** The consumer's next offset (the log's start when it has no position yet). */
  from: bigint;
  /**
   * When the position last moved (projection_offsets.updated_at), on the same clock as `now`;
   * null when it never moved or is not tracked (a notifier's Kafka-committed offset has no time).
   */
  movedAt: Date | null;
}

/**
 * Whether Kafka must be asked for the partition's waiting time: only a partition with lag
 * whose position did not move within STALL_AFTER can be stalled. Keeps the health
 * page and /api/ready to one offsets-by-timestamp request per topic that has such a partition.
 */
export function mayBeStalled(facts: StallFacts, now: Date, stallAfterMs: number): boolean {
  if (facts.lag <= 0n) return false;
  return facts.movedAt === null || now.getTime() - facts.movedAt.getTime() >= stallAfterMs;
}

/**
 * Stalled: lag > 0, the position did not move for STALL_AFTER, and a message written more than
 * STALL_AFTER ago waits (`writtenSinceFrom`: the first offset with a timestamp at or after
 * now − STALL_AFTER; undefined when Kafka could not be asked, and then nothing is called stalled:
 * the page and /api/ready say that Kafka did not answer instead).
 */
export function isStalled(facts: StallFacts, writtenSinceFrom: bigint | undefined, now: Date, stallAfterMs: number): boolean {
  if (!mayBeStalled(facts, now, stallAfterMs) || writtenSinceFrom === undefined) return false;
  return facts.from < writtenSinceFrom;
}

/**
 * For a notifier group (positions are Kafka-committed offsets, with no time of the last move):
 * a backlog that is being worked through also has old messages waiting (a new group reads the
 * log from the start), so waiting alone is not enough. Stalled when an old message waits AND the
 * partition is failing (an error row: the consumer deletes it once the partition moves) or no
 * live instance of the group holds it. A consumer loop that hangs stops heartbeating, so its
 * instance stops being live and its partitions count as held by nobody.
 */
export function isNotifierStalled(
  facts: { lag: bigint; from: bigint; failing: boolean; held: boolean },
  writtenSinceFrom: bigint | undefined,
): boolean {
  if (facts.lag <= 0n || writtenSinceFrom === undefined) return false;
  if (!facts.failing && facts.held) return false;
  return facts.from < writtenSinceFrom;
}

/**
 * How long a stalled partition has been stuck, as well as can be told without reading the log:
 * since the later of its last move and its first failure (a partition idle for an hour that fails
 * on its next message has been stuck since that failure, not for an hour); never less than
 * STALL_AFTER (the rule proved that much); null when neither is known.
 */
export function stalledForMs(
  movedAt: Date | null,
  error: Pick<PartitionError, "firstFailedAt"> | null,
  now: Date,
  stallAfterMs: number,
): number | null {
  const since = Math.max(movedAt?.getTime() ?? -Infinity, error?.firstFailedAt.getTime() ?? -Infinity);
  if (since === -Infinity) return null;
  return Math.max(stallAfterMs, now.getTime() - since);
}

/** A stalled partition as the page and /api/ready name it. */
export interface StalledPartition {
  consumerGroup: string;
  topic: string;
  partition: number;
  /** The offset it waits at (the failing offset when the consumer reported one). */
  offset: bigint;
  lag: bigint;
  /** See stalledForMs; null: at least STALL_AFTER. */
  stalledForMs: number | null;
  /** "host · pid N" of the live instance holding it, or null: held by no live consumer. */
  heldBy: string | null;
  error: PartitionError | null;
}

export interface ReadinessFacts {
  /** Null when the database answered. */
  databaseError: string | null;
  /** Null when Kafka answered (ends and waiting times). */
  kafkaError: string | null;
  liveProjectors: number;
  /** The projector's total lag over the event topics (unknown when Kafka did not answer). */
  lag: bigint;
  maxLag: number;
  stalled: StalledPartition[];
}

export type Readiness = { status: "ready" } | { status: "not ready"; reasons: string[] };

/** At most this many stalled partitions are named; the rest are counted. */
const NAMED_STALLS = 5;

/**
 * Ready = the read model this console serves is being kept current: the database answers,
 * Kafka answers, a projector instance is live, no projector partition is stalled and the total
 * lag is within READY_MAX_LAG. The notifiers are left out on purpose: a stuck mail sender does
 * not make the console's pages wrong, and a load balancer taking the console out of rotation
 * would not fix it (the health page shows it in red).
 */
export function readiness(facts: ReadinessFacts): Readiness {
  if (facts.databaseError) return { status: "not ready", reasons: [`database: ${facts.databaseError}`] };
  const reasons: string[] = [];
  if (facts.liveProjectors === 0) reasons.push("no live projector");
  if (facts.kafkaError) reasons.push(`Kafka: ${facts.kafkaError}`);
  for (const s of facts.stalled.slice(0, NAMED_STALLS)) reasons.push(stallReason(s));
  if (facts.stalled.length > NAMED_STALLS) reasons.push(`${facts.stalled.length - NAMED_STALLS} more partitions stalled`);
  if (!facts.kafkaError && facts.lag > BigInt(facts.maxLag)) {
    reasons.push(`lag ${count(facts.lag)} > READY_MAX_LAG ${count(facts.maxLag)}`);
  }
  return reasons.length === 0 ? { status: "ready" } : { status: "not ready", reasons };
}

/** "users/3 stalled at offset 120 for 45 s: connection refused" */
export function stallReason(s: StalledPartition): string {
  const stuck = s.stalledForMs === null ? "" : ` for ${Math.round(s.stalledForMs / 1000)} s`;
  const why = s.error ? `: ${publicError(s.error.error)}` : s.heldBy ? "" : ": held by no live projector";
  return `${s.topic}/${s.partition} stalled at offset ${s.offset}${stuck}${why}`;
}

/**
 * An error message fit for a public answer: its first line, credentials in URLs masked
 * (scheme://user:secret@host → scheme://***@host), at most 200 characters.
 */
export function publicError(message: string): string {
  const line = (message.split("\n").find((l) => l.trim() !== "") ?? "").trim();
  const masked = line.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi, "$1***@");
  return masked.length > 200 ? `${masked.slice(0, 199)}…` : masked;
}

const grouping = new Intl.NumberFormat("en-US");
const count = (n: bigint | number) => grouping.format(n);
