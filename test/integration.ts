/**
 * Integration-test harness: every test file gets its own database (migrated
 * with the committed migrations), its own topics (a random prefix) and its own
 * consumer group, on the real PostgreSQL and the real Kafka broker that
 * `npm test` started (TEST_DATABASE_URL, KAFKA_BROKERS).
 */
import { randomBytes, randomUUID } from "node:crypto";
import { connectAppClients, type AppClients } from "@/infra/app-clients";
import { createDatabase, databaseUrl } from "@/infra/postgres";
import { migrateDeploy } from "@/infra/prisma/migrate";
import { getLogger, silentLogger } from "@/lib/log";
import { createProjector, type Projector, type ProjectorOptions } from "@/lib/projection/projector";
import type { RoleEvent } from "@/modules/roles/domain/events";
import { evolveRole, type RoleState } from "@/modules/roles/domain/role-state";
import type { UserEvent } from "@/modules/users/domain/events";
import { evolveUser, type UserState } from "@/modules/users/domain/user-state";
import { app, decodeEvent, type DomainEvent } from "@/modules";
import { STREAM_NAMES, type StreamName } from "@/modules/streams";

export interface TestContext extends AppClients<StreamName> {
  id: string;
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run integration tests through \`npm test\` (it starts PostgreSQL and Kafka).`);
  return value;
}

export async function createTestContext(label: string): Promise<TestContext> {
  const id = `${label}_${randomBytes(4).toString("hex")}`.toLowerCase().replace(/[^a-z0-9_]/g, "_");
  const adminUrl = requiredEnv("TEST_DATABASE_URL");
  await createDatabase(adminUrl, `it_${id}`);
  const url = databaseUrl(adminUrl, `it_${id}`);
  await migrateDeploy(url);
  const env = {
    DATABASE_URL: url,
    KAFKA_BROKERS: requiredEnv("KAFKA_BROKERS"),
    KAFKA_TOPIC_PREFIX: `it.${id}.`,
    KAFKA_PARTITIONS: "4",
    PROJECTOR_GROUP_ID: `read-model-${id}`,
    KAFKA_PRODUCE_TIMEOUT_MS: "8000",
    // Projector processes a test spawns serve no metrics unless the test gives each a port.
    PROJECTOR_METRICS_PORT: "0",
  };
  return { id, ...(await connectAppClients({ env, clientIdSuffix: `test-${id}`, actorName: "integration-test", streams: STREAM_NAMES })) };
}

export async function startProjector(
  t: TestContext,
  options: Pick<ProjectorOptions, "concurrency" | "onBatch" | "restartBackoffMs" | "heartbeatIntervalMs"> = {},
): Promise<Projector> {
  // DEBUG_PROJECTOR=1 shows the projector's own log lines while a test runs.
  const logger = process.env.DEBUG_PROJECTOR ? getLogger() : silentLogger;
  const projector = createProjector({ db: t.db, config: t.config, app, logger, ...options });
  await projector.start();
  return projector;
}

/** A UserCreated envelope as another service publishes it with a plain producer (the README's Events section). */
export const externalUserCreated = (userId: string, email: string, name = email.split("@")[0]!) => ({
  id: randomUUID(),
  type: "UserCreated",
  schemaVersion: 1,
  aggregateId: userId,
  sequence: 1,
  occurredAt: new Date().toISOString(),
  actor: { kind: "service", name: "importer" },
  correlationId: randomUUID(),
  causationId: null,
  payload: { email, name },
});

/** Reads until `ok` holds or the time is up, and returns the last value read (assert on it). */
export async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The high watermark of every partition of the event topics. */
export async function endOffsets(t: TestContext): Promise<Array<{ topic: string; partition: number; high: bigint }>> {
  const result: Array<{ topic: string; partition: number; high: bigint }> = [];
  for (const topic of Object.values(t.topics)) {
    for (const p of await t.admin.fetchTopicOffsets(topic)) {
      result.push({ topic, partition: p.partition, high: BigInt(p.high) });
    }
  }
  return result;
}

/** Waits until the projector's stored position reaches the end of every partition. */
export async function waitUntilCaughtUp(t: TestContext, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const ends = (await endOffsets(t)).filter((e) => e.high > 0n);
  for (;;) {
    const rows = await t.db.$queryRaw<{ topic: string; partition: number; next_offset: bigint }[]>`
      SELECT topic, partition, next_offset FROM projection_offsets WHERE consumer_group = ${t.config.PROJECTOR_GROUP_ID}`;
    const at = new Map(rows.map((r) => [`${r.topic}/${r.partition}`, r.next_offset]));
    const behind = ends.filter((e) => (at.get(`${e.topic}/${e.partition}`) ?? 0n) < e.high);
    if (behind.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(`projector still behind after ${timeoutMs} ms: ${behind.map((b) => `${b.topic}/${b.partition}`).join(", ")}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface LogMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

/** Reads every message of `topics` from the beginning up to their current end. */
export async function readLog(t: TestContext, topics: string[] = Object.values(t.topics)): Promise<LogMessage[]> {
  const ends = new Map<string, bigint>();
  for (const topic of topics) {
    for (const p of await t.admin.fetchTopicOffsets(topic)) {
      if (BigInt(p.high) > BigInt(p.low)) ends.set(`${topic}/${p.partition}`, BigInt(p.high));
    }
  }
  if (ends.size === 0) return [];
  const consumer = t.kafka.consumer({ groupId: `log-reader-${randomBytes(4).toString("hex")}` });
  const messages: LogMessage[] = [];
  await consumer.connect();
  try {
    for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const remaining = new Set(ends.keys());
      const timer = setTimeout(() => reject(new Error(`log not fully read: ${[...remaining].join(", ")}`)), 30_000);
      consumer
        .run({
          eachMessage: async ({ topic, partition, message }) => {
            messages.push({
              topic,
              partition,
              offset: message.offset,
              key: message.key?.toString() ?? null,
              value: message.value?.toString() ?? null,
              headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
            });
            const k = `${topic}/${partition}`;
            if (BigInt(message.offset) + 1n >= (ends.get(k) ?? 0n)) remaining.delete(k);
            if (remaining.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return messages;
}

/** The events of the log, decoded (unreadable messages are left out). */
export async function readEvents(t: TestContext): Promise<DomainEvent[]> {
  const log = await readLog(t);
  const events: DomainEvent[] = [];
  for (const m of log) {
    const stream = m.topic === t.topics.users ? "users" : "roles";
    const decoded = decodeEvent(m.value, stream, m.key);
    if (decoded.ok) events.push(decoded.event);
  }
  return events;
}

/** What the read model must hold: the fold of the whole log (per aggregate, in partition order, each event id once). */
export async function foldLog(t: TestContext) {
  const users = new Map<string, UserState | null>();
  const roles = new Map<string, RoleState | null>();
  const seen = new Set<string>();
  for (const e of await readEvents(t)) {
    if (seen.has(e.id)) continue; // the event id is the idempotency key, as in the projector
    seen.add(e.id);
    if (isUserEvent(e)) {
      if (e.type !== "UserCreated" && !users.get(e.aggregateId)) continue; // dead-lettered by the projector too
      users.set(e.aggregateId, evolveUser(users.get(e.aggregateId) ?? null, e));
    } else {
      roles.set(e.aggregateId, evolveRole(roles.get(e.aggregateId) ?? null, e as RoleEvent));
    }
  }
  return { users, roles };
}

const USER_TYPES = new Set<string>([
  "UserCreated",
  "UserUpdated",
  "UserDeleted",
  "UserLoggedIn",
  "RoleAssignedToUser",
  "RoleUnassignedFromUser",
]);
const isUserEvent = (e: DomainEvent): e is UserEvent => USER_TYPES.has(e.type);

/** The read model, in the same shape as foldLog, to compare with toEqual. */
export async function readModel(t: TestContext) {
  const userRows = await t.db.user.findMany({ include: { roles: true }, orderBy: { id: "asc" } });
  const roleRows = await t.db.role.findMany({ orderBy: { id: "asc" } });
  const users = new Map<string, UserState | null>(
    userRows.map((u) => [
      u.id,
      {
        id: u.id,
        email: u.email,
        name: u.name,
        isDeleted: u.isDeleted,
        version: u.version,
        createdAt: u.createdAt.toISOString(),
        updatedAt: u.updatedAt.toISOString(),
        deletedAt: u.deletedAt?.toISOString() ?? null,
        lastLoginAt: u.lastLoginAt?.toISOString() ?? null,
        roles: Object.fromEntries(u.roles.map((r) => [r.roleId, r.roleName])),
      },
    ]),
  );
  const roles = new Map<string, RoleState | null>(
    roleRows.map((r) => [
      r.id,
      {
        id: r.id,
        name: r.name,
        description: r.description,
        permissions: r.permissions,
        builtIn: r.builtIn,
        isDeleted: r.isDeleted,
        version: r.version,
        createdAt: r.createdAt.toISOString(),
        updatedAt: r.updatedAt.toISOString(),
        deletedAt: r.deletedAt?.toISOString() ?? null,
      },
    ]),
  );
  return { users, roles };
}

export const sorted = <V>(m: Map<string, V>) => [...m.entries()].sort(([a], [b]) => a.localeCompare(b));
