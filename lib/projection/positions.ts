/** Where a projection stands: its stored next offset per topic and partition (server only). */
import { Prisma } from "@/generated/prisma/client";
import type { Tx } from "@/lib/command/execute";
import type { Db } from "@/lib/db";

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
  for (const [topic, partitions] of Object.entries(assignment)) {
    for (const partition of partitions) {
      const at = positions.get(positionKey(topic, partition));
      if (at !== undefined) consumer.seek({ topic, partition, offset: String(at) });
      else if (missing === "earliest") consumer.seek({ topic, partition, offset: EARLIEST_OFFSET });
    }
  }
}
