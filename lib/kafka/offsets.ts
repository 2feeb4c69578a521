/** Where each partition of a topic ends (kafkajs admin), for lag and health. */
import type { Admin } from "kafkajs";

export interface PartitionEnd {
  topic: string;
  partition: number;
  /** First offset still in the log (0 with infinite retention). */
  low: bigint;
  /** The high watermark: the offset the next message will get. */
  high: bigint;
}

export async function fetchEndOffsets(admin: Admin, topics: readonly string[]): Promise<PartitionEnd[]> {
  const ends: PartitionEnd[] = [];
  for (const topic of topics) {
    for (const p of await admin.fetchTopicOffsets(topic)) {
      ends.push({ topic, partition: p.partition, low: BigInt(p.low), high: BigInt(p.high) });
    }
  }
  return ends.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
}
