import type { Admin } from "kafkajs";

/**
 * The partition count of each topic, asked of Kafka once (an event topic's count never changes:
 * adding partitions would move keys, and with them the order of their events). Callers that ask
 * while the answer is on its way share the one request, and so get the answer in the same turn:
 * the partition batches of a projector's first fetch each ask, and one request per batch, each
 * answered in a turn of its own, split what the projector's group commit would apply in one
 * transaction (lib/projection/group-commit.ts). A failed answer is not kept.
 */
export function partitionCounts(admin: () => Promise<Admin>) {
  const counts = new Map<string, Promise<number>>();
  return (topic: string): Promise<number> => {
    let count = counts.get(topic);
    if (!count) {
      count = (async () => {
        const { topics } = await (await admin()).fetchTopicMetadata({ topics: [topic] });
        const n = topics[0]?.partitions.length ?? 0;
        if (n < 1) throw new Error(`topic ${topic} has no partitions in the cluster's metadata`);
        return n;
      })();
      counts.set(topic, count);
      count.catch(() => {
        if (counts.get(topic) === count) counts.delete(topic);
      });
    }
    return count;
  };
}
