import { randomBytes, randomUUID } from "node:crypto";
import { Partitioners } from "kafkajs";
import { describe, expect, it } from "vitest";
import { keyPartition, murmur2 } from "./partitioner";

describe("keyPartition", () => {
  // kafkajs' DefaultPartitioner is the Java client's murmur2 partitioner (its tests pin Java's values).
  const kafkajs = Partitioners.DefaultPartitioner();
  const partitionOf = (key: Buffer | string, n: number) =>
    kafkajs({
      topic: "t",
      partitionMetadata: Array.from({ length: n }, (_, partitionId) => ({ partitionId, partitionErrorCode: 0, leader: 0, replicas: [0], isr: [0] })),
      message: { key, value: null },
    });

  it("agrees with kafkajs' default (Java-compatible) partitioner on uuids and random bytes of every length", () => {
    for (let i = 0; i < 2_000; i++) {
      const n = 1 + (i % 97);
      const uuid = randomUUID();
      expect(keyPartition(uuid, n)).toBe(partitionOf(uuid, n));
      const bytes = randomBytes(i % 13);
      expect(keyPartition(bytes, n)).toBe(partitionOf(bytes, n));
    }
  });

  it("matches Kafka's published murmur2 values", () => {
    // From Kafka's UtilsTest#testMurmur2.
    expect(murmur2(Buffer.from("21"))).toBe(-973932308);
    expect(murmur2(Buffer.from("foobar"))).toBe(-790332482);
    expect(murmur2(Buffer.from("a-little-bit-long-string"))).toBe(-985981536);
    expect(murmur2(Buffer.from("a-little-bit-longer-string"))).toBe(-1486304829);
    expect(murmur2(Buffer.from("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"))).toBe(-58897971);
    expect(murmur2(Buffer.from("abc"))).toBe(479470107);
  });
});
