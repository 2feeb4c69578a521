/** Where a projection stands: its stored next offset per topic and partition (server only). */
import { Prisma } from "@/generated/prisma/client";
import type { Tx } from "@/lib/command/execute";
import type { Db } from "@/lib/db";

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

/** Points the consumer at the stored positions of the partitions it was just assigned (the database is the truth, not Kafka's commits). */
export function seekToPositions(
  consumer: { seek(topicPartitionOffset: { topic: string; partition: number; offset: string }): void },
  assignment: Record<string, number[]>,
  positions: Positions,
): void {
  for (const [topic, partitions] of Object.entries(assignment)) {
    for (const partition of partitions) {
      const at = positions.get(positionKey(topic, partition));
      if (at !== undefined) consumer.seek({ topic, partition, offset: String(at) });
    }
  }
}
