/**
 * Everything one webhooks worker process runs (workers/webhooks.ts): the
 * dispatcher's consumer (queuing), the senders (requests) and the replay
 * runner. Run several for more throughput: Kafka shares the partitions among
 * the dispatchers, and the senders share the queue through leases.
 */
import type { Kafka } from "kafkajs";
import type { KafkaConfig } from "@/lib/config";
import type { KeyWrapper } from "@/lib/crypto/key-wrapper";
import type { Db } from "@/lib/db";
import { createKafka } from "@/lib/kafka/client";
import type { Logger } from "@/lib/log";
import { app } from "@/modules";
import type { WebhooksConfig } from "../config";
import { createDispatcher } from "./dispatcher";
import { createReplayRunner } from "./replay";
import { createSender } from "./sender";

export interface WebhooksWorkerOptions {
  db: Db;
  keys: KeyWrapper;
  config: WebhooksConfig;
  kafkaConfig: KafkaConfig;
  logger: Logger;
  kafka?: Kafka;
  metricsPort?: number | null;
}

export function createWebhooksWorker(options: WebhooksWorkerOptions) {
  const { db, config, kafkaConfig, logger } = options;
  const kafka = options.kafka ?? createKafka(kafkaConfig, "webhooks");
  const group = config.WEBHOOKS_GROUP_ID;
  const streams = app.streams;
  const dispatcher = createDispatcher({ db, kafkaConfig, group, streams, logger, kafka, metricsPort: options.metricsPort });
  const sender = createSender({ db, keys: options.keys, config, kafkaConfig, streams, logger });
  const replays = createReplayRunner({ db, kafka, kafkaConfig, group, streams, logger });
  return {
    async start() {
      sender.start();
      replays.start();
      await dispatcher.start();
    },
    /** In the order that loses least: stop queuing, then reading, then let requests in flight finish. */
    steps: () => [
      { name: "webhook dispatcher (Kafka consumer)", run: () => dispatcher.stop() },
      { name: "webhook replays", run: () => replays.stop() },
      { name: "webhook senders (requests in flight)", run: () => sender.stop() },
    ],
  };
}
