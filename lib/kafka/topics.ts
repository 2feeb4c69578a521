/**
 * Topic names and topic set-up. Retention is infinite: the log is the system of
 * record, so a topic that would delete events is refused, loudly.
 */
import type { Admin } from "kafkajs";
import type { KafkaConfig } from "@/lib/config";

/** The topic of a stream (the modules' stream names, modules/streams.ts). */
export const topicName = (stream: string, config: Pick<KafkaConfig, "KAFKA_TOPIC_PREFIX">) =>
  `${config.KAFKA_TOPIC_PREFIX}${stream}`;
export const deadLetterTopic = (topic: string) => `${topic}.dlq`;

export function streamOfTopic(
  topic: string,
  config: Pick<KafkaConfig, "KAFKA_TOPIC_PREFIX">,
  streams: readonly string[],
): string {
  const stream = streams.find((s) => topicName(s, config) === topic);
  if (!stream) throw new Error(`topic ${topic} is not an event stream of this application`);
  return stream;
}

const INFINITE_RETENTION = { "retention.ms": "-1", "retention.bytes": "-1" } as const;

/**
 * Creates the event topics and their dead-letter topics where missing, and
 * checks the ones that exist. Idempotent; throws with a clear message when an
 * existing topic would lose events.
 */
export async function ensureTopics(admin: Admin, config: KafkaConfig, streams: readonly string[]): Promise<string[]> {
  const topics = streams.flatMap((s) => [topicName(s, config), deadLetterTopic(topicName(s, config))]);
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t));
  if (missing.length) {
    // kafkajs waits for the new topics' leaders, but retries that wait only on LEADER_NOT_AVAILABLE:
    // a busy broker can still answer UNKNOWN_TOPIC_OR_PARTITION for a topic it just created. Asked
    // again, the topics exist (createTopics resolves false) and the checks below wait for them.
    await retryWhile(() => admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({
        topic,
        numPartitions: topic.endsWith(".dlq") ? 1 : config.KAFKA_PARTITIONS,
        replicationFactor: config.KAFKA_REPLICATION_FACTOR,
        configEntries: Object.entries({
          ...INFINITE_RETENTION,
          "min.insync.replicas": String(config.KAFKA_MIN_INSYNC_REPLICAS),
          "cleanup.policy": "delete",
        }).map(([name, value]) => ({ name, value })),
      })),
    }), isUnknownTopic);
  }
  await retryWhile(() => assertInfiniteRetention(admin, topics), isUnknownTopic);
  return topics;
}

/**
 * Right after creating topics, the broker that answers describeConfigs may not
 * know them yet (UNKNOWN_TOPIC_OR_PARTITION): its metadata catches up from the
 * controller. That takes a second or two on an idle cluster, but a CPU-starved
 * broker (a CI machine running browsers and other JVMs beside it) was seen to
 * take longer than the 5 s a fixed ten tries of 500 ms gave it, and the start
 * failed. So ask again, backing off, until a deadline rather than a count.
 */
export async function retryWhile<T>(
  work: () => Promise<T>,
  retriable: (error: unknown) => boolean,
  { deadlineMs = 60_000, firstDelayMs = 250, maxDelayMs = 2_000, sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms)), now = Date.now } = {},
): Promise<T> {
  const giveUpAt = now() + deadlineMs;
  for (let delay = firstDelayMs; ; delay = Math.min(maxDelayMs, delay * 2)) {
    try {
      return await work();
    } catch (error) {
      if (!retriable(error) || now() + delay > giveUpAt) throw error;
      await sleep(delay);
    }
  }
}

const isUnknownTopic = (error: unknown) =>
  (error as { type?: string }).type === "UNKNOWN_TOPIC_OR_PARTITION" ||
  /does not host this topic-partition/i.test(String((error as Error).message));

async function assertInfiniteRetention(admin: Admin, topics: string[]) {
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: topics.map((name) => ({ type: 2 /* ConfigResourceTypes.TOPIC */, name })),
  });
  const problems: string[] = [];
  for (const resource of resources) {
    for (const [name, expected] of Object.entries(INFINITE_RETENTION)) {
      const entry = resource.configEntries.find((e) => e.configName === name);
      if (entry?.configValue !== expected) {
        problems.push(`${resource.resourceName}: ${name}=${entry?.configValue ?? "(unset)"} (expected ${expected})`);
      }
    }
    const policy = resource.configEntries.find((e) => e.configName === "cleanup.policy")?.configValue;
    if (policy && policy.includes("compact")) {
      problems.push(`${resource.resourceName}: cleanup.policy=${policy} (compaction would drop events)`);
    }
  }
  if (problems.length) {
    throw new Error(
      `Refusing to start: these topics would delete events, but the log is the system of record.\n  ${problems.join("\n  ")}\n` +
        `Fix with: kafka-configs.sh --alter --entity-type topics --entity-name <topic> --add-config retention.ms=-1,retention.bytes=-1`,
    );
  }
}
