/**
 * The infrastructure a run needs: PostgreSQL and Kafka. Each is either given
 * (DATABASE_URL / KAFKA_BROKERS: an existing server or cluster) or started
 * here (embedded PostgreSQL, a local KRaft broker) with its data in `dataDir`.
 */
import { randomBytes } from "node:crypto";
import { lstatSync, mkdirSync, readlinkSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startKafka, type KafkaHandle } from "@/infra/kafka/broker";
import {
  createDatabase,
  databaseUrl,
  startPostgres,
  unreachableParentForPostgresUser,
  type PostgresHandle,
} from "@/infra/postgres";

/**
 * Where `npm start` runs its own servers when DATABASE_URL / KAFKA_BROKERS are
 * not set (overridable by env); `npm run rebuild` looks for them there too.
 */
export const LOCAL_STACK = {
  databaseName: "admin_console",
  postgresPort: Number(process.env.EMBEDDED_POSTGRES_PORT ?? 54329),
  kafkaPort: Number(process.env.LOCAL_KAFKA_PORT ?? 9092),
  kafkaControllerPort: Number(process.env.LOCAL_KAFKA_CONTROLLER_PORT ?? 9093),
} as const;

export interface InfraOptions {
  dataDir: string;
  /** Use this PostgreSQL instead of starting one. */
  databaseUrl?: string;
  /** Database to create and use on a started server. */
  databaseName: string;
  postgresPort: number;
  /** Settings for the embedded PostgreSQL (ignored with `databaseUrl`): see StartPostgresOptions.settings. */
  postgresSettings?: Record<string, string>;
  /** Use these brokers instead of starting one. */
  brokers?: string[];
  kafkaPort: number;
  kafkaControllerPort: number;
  log: (line: string) => void;
  /** Delete the data of earlier runs first (tests). */
  fresh?: boolean;
}

export interface Infra {
  databaseUrl: string;
  brokers: string[];
  postgres?: PostgresHandle;
  kafka?: KafkaHandle;
  /** Stops what was started here (not given servers), each bounded by `graceMs` (default 10 s) plus a kill. */
  stop(graceMs?: number): Promise<void>;
}

export async function startInfra(options: InfraOptions): Promise<Infra> {
  const { log } = options;
  let postgres: PostgresHandle | undefined;
  let kafka: KafkaHandle | undefined;
  // The launchers' own lines (initdb, jars, formatting, leftovers), not every server log line.
  const ours = (prefix: string) => (line: string) => {
    if (line.startsWith(prefix) && !line.startsWith(`${prefix}----`)) log(line);
  };
  const stop = async (graceMs = 10_000) => {
    await Promise.allSettled([kafka?.stop(graceMs), postgres?.stop(graceMs)]);
  };
  try {
    const [db, brokers] = await Promise.all([
      (async () => {
        if (options.databaseUrl) {
          log(`PostgreSQL: using DATABASE_URL (${redact(options.databaseUrl)})`);
          return options.databaseUrl;
        }
        const started = Date.now();
        const pgData = postgresDataDir(options.dataDir, log);
        if (options.fresh) rmSync(pgData, { recursive: true, force: true });
        postgres = await startPostgres({ dataDir: pgData, port: options.postgresPort, settings: options.postgresSettings, log: ours("[postgres] ") });
        await createDatabase(postgres.url, options.databaseName);
        log(`PostgreSQL: embedded, port ${options.postgresPort}, ready in ${Date.now() - started} ms`);
        return databaseUrl(postgres.url, options.databaseName);
      })(),
      (async () => {
        if (options.brokers?.length) {
          log(`Kafka: using KAFKA_BROKERS (${options.brokers.join(",")})`);
          return options.brokers;
        }
        const started = Date.now();
        if (options.fresh) rmSync(path.join(options.dataDir, "kafka"), { recursive: true, force: true });
        kafka = await startKafka({
          dataDir: path.join(options.dataDir, "kafka"),
          port: options.kafkaPort,
          controllerPort: options.kafkaControllerPort,
          log: ours("[kafka] "),
        });
        log(`Kafka: local KRaft broker on ${kafka.brokers.join(",")}, ready in ${Date.now() - started} ms`);
        return kafka.brokers;
      })(),
    ]);
    return { databaseUrl: db, brokers, postgres, kafka, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * `<dataDir>/postgres`, unless we run as root inside a directory the `postgres`
 * user (which the server runs as) cannot enter, e.g. a checkout under a 0700
 * home: then a new directory under the system's temp dir, which
 * `<dataDir>/postgres` links to. The link ties the database to this `.data`
 * and its key-encryption key (`.data/keys`): a fresh `.data` (a new clone at
 * the same path, `rm -rf .data`) gets a fresh database. A name derived from the
 * checkout's path did not: a new clone picked up the old database, whose
 * encrypted rows its new key could not read.
 */
function postgresDataDir(dataDir: string, log: (line: string) => void): string {
  const preferred = path.join(dataDir, "postgres");
  const blocked = unreachableParentForPostgresUser(preferred);
  if (!blocked) return preferred;
  let target: string | undefined;
  try {
    if (!lstatSync(preferred).isSymbolicLink()) {
      throw new Error(
        `${preferred} is a directory, but the postgres user cannot enter ${blocked} to use it; ` +
          `move it away (or \`chmod o+x ${blocked}\`) and start again`,
      );
    }
    target = readlinkSync(preferred);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  if (!target) {
    target = path.join(tmpdir(), `admin-console-pg-${randomBytes(6).toString("hex")}`);
    mkdirSync(dataDir, { recursive: true });
    symlinkSync(target, preferred);
  }
  log(`PostgreSQL: the postgres user cannot enter ${blocked}; keeping its data in ${target} (linked from ${preferred})`);
  return target;
}

export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparseable URL)";
  }
}
