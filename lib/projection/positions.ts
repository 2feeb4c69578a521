/** Where a projection stands: its stored next offset per topic and partition (server only). */
import { Prisma } from "@/generated/prisma/client";
import type { Tx } from "@/lib/command/execute";
import type { Db } from "@/lib/db";
import type { Admin, Batch, Consumer } from "kafkajs";
import type { Logger } from "@/lib/log";

/** kafkajs' seek to a partition's first offset in the log (its EARLIEST_OFFSET, -2). */
const EARLIEST_OFFSET = "-2";

/** "topic/partition" → next offset to project. */
export type Positions = Map<string, bigint>;

export const positionKey = (topic: string, partition: number) => `${topic}/${partition}`;

/** `group`'s rows of projection_offsets in `schema` (the live tables, or a rebuild's shadow). */
export async function storedPositions(db: Db | Tx, group: string, schema = "public"): Promise<Positions> {
  const rows = await db.$queryRaw<{ topic: string; partition: number; next_offset: bigint }[]>`
    SELECT topic, partition, next_offset FROM ${Prisma.raw(`"${schema}"`)}.projection_offsets WHERE consumer_group = ${group}`;
  return new Map(rows.map((r) => [positionKey(r.topic, r.partition), r.next_offset]));
}

/** Messages `behind` still has to project to reach `ahead`, summed over partitions (never negative per partition). */
export function gapBetween(ahead: Positions, behind: Positions): bigint {
  let gap = 0n;
  for (const [key, offset] of ahead) {
    const at = behind.get(key) ?? 0n;
    if (offset > at) gap += offset - at;
  }
  return gap;
}

/**
 * Points the consumer at the stored positions of the partitions it was just assigned (the database
 * is the truth, not Kafka's commits). `missing: "earliest"`: a partition with no stored position
 * goes back to the log's start (nothing of it is in the database: a read model wiped, or restored
 * from before the partition's first batch), not to the group's committed offset, which would skip
 * everything before it. Left as it is otherwise (kafkajs' committed offset, or fromBeginning).
 */
export function seekToPositions(
  consumer: { seek(topicPartitionOffset: { topic: string; partition: number; offset: string }): void },
  assignment: Record<string, number[]>,
  positions: Positions,
  { missing }: { missing?: "earliest" } = {},
): void {
  for (const { topic, partition, offset } of assignedPositions(assignment, positions)) {
    if (offset !== undefined) consumer.seek({ topic, partition, offset });
    else if (missing === "earliest") consumer.seek({ topic, partition, offset: EARLIEST_OFFSET });
  }
}

/**
 * What a consumer of a stored projection does when it is assigned partitions: seek to the stored
 * positions (a partition with none goes back to the log's start, see seekToPositions), then commit
 * them to Kafka. Kafka otherwise learns a position only with a batch's commit, so one stored
 * without this consumer (a process that died between PostgreSQL's commit and Kafka's, a restore,
 * positions written out of band) would stay behind there until the partition's next event, and
 * with it the group's lag in Kafka's own tools. PostgreSQL is the truth; a failed commit is only
 * logged, as the next batches commit again.
 */
export async function resumeAtStoredPositions(
  consumer: Pick<Consumer, "seek" | "commitOffsets">,
  assignment: Record<string, number[]>,
  positions: Positions,
  log: Logger,
): Promise<void> {
  seekToPositions(consumer, assignment, positions, { missing: "earliest" });
  const stored = assignedPositions(assignment, positions).filter((p): p is typeof p & { offset: string } => p.offset !== undefined);
  if (!stored.length) return;
  await consumer.commitOffsets(stored).catch((error: unknown) => {
    log.warn({ err: error }, "could not tell Kafka the stored positions on assignment; it learns them with the next batches");
  });
}

/** The stored position of each assigned partition (undefined where none is stored). */
export function assignedPositions(assignment: Record<string, number[]>, positions: Positions) {
  return Object.entries(assignment).flatMap(([topic, partitions]) =>
    partitions.map((partition) => ({ topic, partition, offset: positions.get(positionKey(topic, partition))?.toString() })),
  );
}

/**
 * The offset the consumer fetched `batch` from: kafkajs sets `fetchedOffset` on its Batch but not
 * in its types. The first message's offset cannot tell (other producers' transaction markers take
 * offsets too).
 */
export function fetchedOffsetOf(batch: Batch): string | undefined {
  return (batch as Batch & { fetchedOffset?: string }).fetchedOffset;
}

/**
 * Whether a batch fetched from `fetchedOffset` follows on from the stored position: null when it
 * does, else the offset to go back to and why. Past a stored position, something between would
 * be skipped (a seek not yet applied; the database restored from before the last commits). With
 * no position stored, the batch must start at the log's start: nothing of the partition is in the
 * database (a database restored from before its first batch), and Kafka's committed offset, where
 * kafkajs resumes, would skip all before it. `logStart` is asked only then; without it (a
 * rebuild's replay, which reads from the start) only the stored position is checked.
 */
export async function positionGap(
  stored: bigint | undefined,
  fetchedOffset: string | undefined,
  logStart?: () => Promise<string>,
): Promise<{ gapFrom: string; storedPosition: string | null; logStart?: string } | null> {
  if (fetchedOffset === undefined) return null;
  const fetched = BigInt(fetchedOffset);
  if (stored !== undefined) return fetched > stored ? { gapFrom: String(stored), storedPosition: String(stored) } : null;
  if (fetched === 0n || !logStart) return null;
  const start = await logStart();
  return fetched > BigInt(start) ? { gapFrom: start, storedPosition: null, logStart: start } : null;
}

/** A partition's first offset in the log (Kafka's low watermark), asked of `admin` each time. */
export function logStartOf(admin: () => Promise<Admin>) {
  return async (topic: string, partition: number): Promise<string> => {
    const offsets = await (await admin()).fetchTopicOffsets(topic);
    const low = offsets.find((o) => o.partition === partition)?.low;
    if (low === undefined) throw new Error(`no offsets for ${topic}/${partition} in the cluster's answer`);
    return low;
  };
}
