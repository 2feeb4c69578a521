/**
 * The partition a key belongs to: murmur2 of the key's bytes, made positive, modulo the
 * partition count. This is the default of Kafka's Java client and of kafkajs, so every
 * producer that keeps its default puts one aggregate's events on one partition, in order.
 * librdkafka-based clients (kcat, confluent-kafka-*) default to crc32 instead and must be
 * told `partitioner=murmur2_random`; the projector dead-letters a keyed message that landed
 * elsewhere (lib/projection/apply-batch.ts), since applying it could reorder the aggregate.
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Kafka's murmur2 (org.apache.kafka.common.utils.Utils#murmur2), as a signed 32-bit int. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = SEED ^ length;
  const whole = length - (length % 4);
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const rest = length % 4;
  if (rest === 3) h ^= data[whole + 2]! << 16;
  if (rest >= 2) h ^= data[whole + 1]! << 8;
  if (rest >= 1) {
    h ^= data[whole]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition Kafka's default partitioner gives `key` among `partitions`. */
export function keyPartition(key: Uint8Array | string, partitions: number): number {
  const bytes = typeof key === "string" ? Buffer.from(key, "utf8") : key;
  return (murmur2(bytes) & 0x7fffffff) % partitions;
}
