/**
 * Environment configuration, parsed once with zod so a wrong value fails at
 * start with a message naming the variable (not later, deep in a request).
 */
import { z } from "zod";

const bool = z
  .enum(["true", "false", "1", "0", ""])
  .optional()
  .transform((v) => v === "true" || v === "1");
const int = (fallback: number, min = 1) => z.coerce.number().int().min(min).default(fallback);

const kafkaSchema = z.object({
  KAFKA_BROKERS: z
    .string()
    .min(1, "KAFKA_BROKERS is required (comma-separated host:port list)")
    .transform((v) => v.split(",").map((b) => b.trim()).filter(Boolean)),
  KAFKA_CLIENT_ID: z.string().min(1).default("admin-console"),
  KAFKA_SSL: bool,
  KAFKA_SSL_CA_FILE: z.string().optional(),
  KAFKA_SSL_REJECT_UNAUTHORIZED: z.enum(["true", "false"]).default("true"),
  KAFKA_SASL_MECHANISM: z.enum(["plain", "scram-sha-256", "scram-sha-512"]).optional(),
  KAFKA_SASL_USERNAME: z.string().optional(),
  KAFKA_SASL_PASSWORD: z.string().optional(),
  /** Prepended to every topic name: isolates tests and environments sharing a cluster. */
  KAFKA_TOPIC_PREFIX: z.string().regex(/^[a-zA-Z0-9._-]*$/, "letters, digits, . _ - only").default(""),
  KAFKA_PARTITIONS: int(50),
  KAFKA_REPLICATION_FACTOR: int(1),
  KAFKA_MIN_INSYNC_REPLICAS: int(1),
  /** Upper bound for one produce (connect, retries, broker ack): a command fails within it. */
  KAFKA_PRODUCE_TIMEOUT_MS: int(8000, 1000),
  PROJECTOR_GROUP_ID: z.string().min(1).default("read-model"),
});

export type KafkaConfig = z.infer<typeof kafkaSchema>;
type Env = Readonly<Record<string, string | undefined>>;

function parse<T extends z.ZodType>(schema: T, env: Env): z.infer<T> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`).join("\n");
    throw new Error(`Invalid configuration:\n${lines}`);
  }
  return result.data;
}

export const kafkaConfig = (env: Env = process.env): KafkaConfig => {
  const config = parse(kafkaSchema, env);
  if (config.KAFKA_SASL_MECHANISM && !(config.KAFKA_SASL_USERNAME && config.KAFKA_SASL_PASSWORD)) {
    throw new Error("Invalid configuration:\n  KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are required with KAFKA_SASL_MECHANISM");
  }
  return config;
};

/** Unset and empty are the same: `SMTP_URL=` in a .env file means "no SMTP server". */
const optional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === "" ? undefined : v), schema.optional());

const notifierSchema = z.object({
  /** smtp(s)://user:pass@host:port; unset: each mail is written as an .eml file under MAIL_DIR. */
  SMTP_URL: optional(z.url({ protocol: /^smtps?$/, error: "an smtp:// or smtps:// URL" })),
  MAIL_FROM: z.string().min(1).default("Admin Console <no-reply@localhost>"),
  MAIL_DIR: z.string().min(1).default(".data/mail"),
  /** Slack incoming webhook; unset: the Slack notifier logs what it would post and posts nothing. */
  SLACK_WEBHOOK_URL: optional(z.url({ protocol: /^https?$/, error: "an http(s):// URL" })),
  /** Base of the links in messages. */
  CONSOLE_URL: z.url().default("http://127.0.0.1:3000").transform((v) => v.replace(/\/+$/, "")),
  /**
   * Events older than this are folded into a notifier's state but not sent: a
   * new notifier group reads the log from the beginning and must not welcome
   * every user ever created.
   */
  NOTIFY_MAX_AGE_HOURS: int(72),
  NOTIFIER_EMAIL_GROUP_ID: z.string().min(1).default("notifier-email"),
  NOTIFIER_SLACK_GROUP_ID: z.string().min(1).default("notifier-slack"),
});

export type NotifierConfig = z.infer<typeof notifierSchema>;
export const notifierConfig = (env: Env = process.env): NotifierConfig => parse(notifierSchema, env);

export const databaseUrl = (env: Env = process.env): string =>
  parse(z.object({ DATABASE_URL: z.string().min(1, "DATABASE_URL is required") }), env).DATABASE_URL;

/** The projector's /metrics port (PROJECTOR_METRICS_PORT, default 9464; 0 turns the endpoint off). */
export const projectorMetricsPort = (env: Env = process.env): number =>
  parse(z.object({ PROJECTOR_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464) }), env)
    .PROJECTOR_METRICS_PORT;

/**
 * The least time between two of the projector's live fetches (PROJECTOR_LINGER_MS, 0–1000, default
 * 20; 0: fetch again at once): lib/projection/projector.ts, lingerMs. At 200–700 createUser/s on
 * 2 cores, 20 ms took 7–20% off the machine's CPU per command, for about 8 ms more before a
 * command is visible (bench/PERFORMANCE.md, twelfth session).
 */
export const projectorLingerMs = (env: Env = process.env): number =>
  parse(z.object({ PROJECTOR_LINGER_MS: z.coerce.number().int().min(0, "0 to 1000").max(1000, "0 to 1000").default(20) }), env)
    .PROJECTOR_LINGER_MS;

/**
 * How much lower than the projector's own the CPU priority of a rebuild it runs is (REBUILD_NICE,
 * added to the nice value of the rebuild's thread, 0–19; default 0, the same). On Linux only
 * (workers/rebuild-thread.ts). Not lowered by default: on 2 cores, 10 did not make the commands
 * offered meanwhile faster, and a starved thread holds the live projector longer at its switch.
 */
export const rebuildNice = (env: Env = process.env): number =>
  parse(z.object({ REBUILD_NICE: z.coerce.number().int().min(0, "0 to 19").max(19, "0 to 19").default(0) }), env).REBUILD_NICE;

/**
 * How many threads decode a rebuild's batches beside the thread that folds them
 * (REBUILD_DECODE_THREADS, 0–16, default 1; 0: the fold's thread decodes too):
 * lib/projection/rebuild/decode-threads.ts. On 2 cores one took a sealed log's replay from 34.4 to
 * 25.4 s and a second did not help (bench/PERFORMANCE.md, eleventh session).
 */
export const rebuildDecodeThreads = (env: Env = process.env): number =>
  parse(z.object({ REBUILD_DECODE_THREADS: z.coerce.number().int().min(0, "0 to 16").max(16, "0 to 16").default(1) }), env)
    .REBUILD_DECODE_THREADS;

const healthSchema = z.object({
  /**
   * A partition with lag whose position has not moved for this long, while a message older
   * than this waits on it, is "stalled" (health page in red, /api/ready not ready).
   */
  PROJECTION_STALL_AFTER_MS: int(30_000, 1000),
  /** /api/ready answers "not ready" while the projector's total lag is above this many messages. */
  READY_MAX_LAG: int(10_000, 0),
  // The notifiers' groups, read by the health page; the same variables as the notifiers'.
  NOTIFIER_EMAIL_GROUP_ID: notifierSchema.shape.NOTIFIER_EMAIL_GROUP_ID,
  NOTIFIER_SLACK_GROUP_ID: notifierSchema.shape.NOTIFIER_SLACK_GROUP_ID,
});

export type HealthConfig = z.infer<typeof healthSchema>;
/** What the health page and /api/ready judge by (only these variables: a notifier's SMTP_URL is not the console's business). */
export const healthConfig = (env: Env = process.env): HealthConfig => parse(healthSchema, env);
