/**
 * The application's clients against one database and one topic prefix: what
 * the integration tests and the fault drills each run their scenarios with
 * (configuration parsed from `env`, a Kafka admin with the topics ensured, the
 * Prisma client and the event appender, a command context for `actorName`).
 */
import type { Admin, Kafka } from "kafkajs";
import type { CommandContext, CommandDeps } from "@/lib/command/execute";
import { kafkaConfig, type KafkaConfig } from "@/lib/config";
import { createDb, type Db } from "@/lib/db";
import { createKafka } from "@/lib/kafka/client";
import { keyWrapperFromEnv } from "@/lib/crypto/key-wrapper";
import { createEventAppender, type EventAppender } from "@/lib/kafka/producer";
import { createPersonalDataKeys, type PersonalDataKeys } from "@/lib/privacy/key-store";
import { ensureTopics, topicName } from "@/lib/kafka/topics";

export interface AppClients<S extends string = string> {
  databaseUrl: string;
  db: Db;
  config: KafkaConfig;
  env: Record<string, string>;
  kafka: Kafka;
  admin: Admin;
  appender: EventAppender;
  /** The key store of personal data the appender seals with (lib/privacy). */
  personalData: PersonalDataKeys;
  /** What a command needs; with the key store, an erasure too (modules/privacy). */
  deps: CommandDeps & { personalData: PersonalDataKeys };
  ctx: CommandContext;
  /** Each stream's topic. */
  topics: Record<S, string>;
  close(): Promise<void>;
}

export async function connectAppClients<S extends string>(options: {
  env: Record<string, string> & { DATABASE_URL: string };
  /** The application's streams (the modules' names, passed in: infra/ knows no module). */
  streams: readonly S[];
  clientIdSuffix: string;
  actorName: string;
  /** Creates (or checks) the topics; the default is `ensureTopics`. */
  ensure?: (admin: Admin, config: KafkaConfig, streams: readonly S[]) => Promise<unknown>;
}): Promise<AppClients<S>> {
  const { env } = options;
  const config = kafkaConfig(env);
  const kafka = createKafka(config, options.clientIdSuffix);
  const admin = kafka.admin();
  await admin.connect();
  await (options.ensure ?? ensureTopics)(admin, config, options.streams);
  const db = createDb(env.DATABASE_URL);
  const keyWriter = createDb(env.DATABASE_URL, { poolSize: 4 });
  const personalData = createPersonalDataKeys(db, keyWrapperFromEnv({ ...process.env, ...env }), { writer: keyWriter });
  const appender = createEventAppender(config, { personalData });
  return {
    databaseUrl: env.DATABASE_URL,
    db,
    config,
    env,
    kafka,
    admin,
    appender,
    personalData,
    deps: { db, appender, personalData },
    ctx: { actor: { kind: "service", name: options.actorName } },
    topics: Object.fromEntries(options.streams.map((s) => [s, topicName(s, config)])) as Record<S, string>,
    async close() {
      await personalData.close().catch(() => {});
      await Promise.allSettled([appender.disconnect(), admin.disconnect(), db.$disconnect(), keyWriter.$disconnect()]);
    },
  };
}
