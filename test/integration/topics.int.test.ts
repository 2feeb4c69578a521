/** Topic set-up against the real broker: idempotent, and loud about finite retention. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kafkaConfig } from "@/lib/config";
import { ensureTopics } from "@/lib/kafka/topics";
import { createTestContext, type TestContext } from "../integration";
import { app } from "@/modules";

let t: TestContext;
beforeAll(async () => {
  t = await createTestContext("topics");
});
afterAll(async () => {
  await t?.close();
});

describe("ensureTopics", () => {
  it("created the topics with the configured partitions and infinite retention, and is idempotent", async () => {
    const topics = await ensureTopics(t.admin, t.config, app.streams);
    expect(topics).toEqual(Object.values(t.topics).flatMap((topic) => [topic, `${topic}.dlq`]));
    const metadata = await t.admin.fetchTopicMetadata({ topics: [t.topics.users, t.topics.roles] });
    expect(metadata.topics.map((m) => m.partitions.length)).toEqual([4, 4]);
    const { resources } = await t.admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: 2, name: t.topics.users }],
    });
    const config = Object.fromEntries(resources[0]!.configEntries.map((e) => [e.configName, e.configValue]));
    expect(config).toMatchObject({ "retention.ms": "-1", "retention.bytes": "-1", "min.insync.replicas": "1" });
  });

  it("refuses to start on an existing topic that would delete events", async () => {
    const config = kafkaConfig({ ...t.env, KAFKA_TOPIC_PREFIX: `${t.env.KAFKA_TOPIC_PREFIX}finite.` });
    await t.admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: `${config.KAFKA_TOPIC_PREFIX}users`, numPartitions: 1, configEntries: [{ name: "retention.ms", value: "604800000" }] },
      ],
    });
    await expect(ensureTopics(t.admin, config, app.streams)).rejects.toThrow(
      /Refusing to start.*\n.*finite\.users: retention\.ms=604800000 \(expected -1\)/,
    );
  });
});
