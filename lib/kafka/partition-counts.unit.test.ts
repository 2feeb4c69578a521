import type { Admin } from "kafkajs";
import { describe, expect, it } from "vitest";
import { partitionCounts } from "./partition-counts";

/** An admin whose metadata answers come back when the test says, one by one, as replies off a socket do. */
function slowAdmin(partitions: number) {
  const asked: string[] = [];
  const replies: Array<() => void> = [];
  const admin = {
    fetchTopicMetadata: ({ topics }: { topics: string[] }) => {
      asked.push(...topics);
      return new Promise((resolve, reject) =>
        replies.push(() =>
          partitions > 0
            ? resolve({ topics: topics.map((name) => ({ name, partitions: Array.from({ length: partitions }, (_, partitionId) => ({ partitionId })) })) })
            : reject(new Error("metadata refused")),
        ),
      );
    },
  } as unknown as Admin;
  return { admin: async () => admin, asked, answerNext: () => replies.shift()?.() };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe("partitionCounts", () => {
  it("asks Kafka once per topic, also when the batches of one fetch ask at once, and answers them all in the same turn", async () => {
    const kafka = slowAdmin(4);
    const partitionsOf = partitionCounts(kafka.admin);
    const answered: number[] = [];
    const asking = [0, 1, 2, 3].map((i) => partitionsOf("users").then((n) => answered.push(i) && n));
    await turn();
    expect(kafka.asked).toEqual(["users"]);
    kafka.answerNext();
    await turn(); // the projector's group commit takes what is handed in within one turn as one group
    expect(answered).toEqual([0, 1, 2, 3]);
    expect(await Promise.all(asking)).toEqual([4, 4, 4, 4]);
    expect(await partitionsOf("users")).toBe(4);
    expect(kafka.asked).toEqual(["users"]);
  });

  it("asks again after a failed answer instead of keeping the failure", async () => {
    const refused = slowAdmin(0);
    const partitionsOf = partitionCounts(refused.admin);
    const first = partitionsOf("users");
    await turn();
    refused.answerNext();
    await expect(first).rejects.toThrow(/metadata refused/);
    const second = partitionsOf("users");
    await turn();
    expect(refused.asked).toEqual(["users", "users"]);
    refused.answerNext();
    await expect(second).rejects.toThrow(/metadata refused/);
  });
});
