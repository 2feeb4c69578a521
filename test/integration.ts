/**
 * Integration-test harness: every test file gets its own database (a copy of
 * one migrated with the committed migrations), its own topics (a random prefix) and its own
 * consumer group, on the real PostgreSQL and the real Kafka broker that
 * `npm test` started (TEST_DATABASE_URL, KAFKA_BROKERS).
 */
import { randomBytes, randomUUID } from "node:crypto";
import { expect } from "vitest";
import { connectAppClients, type AppClients } from "@/infra/app-clients";
import { foldLog as foldLogWith, readLog, waitUntilCaughtUp, type LogMessage } from "@/infra/log-harness";
import { databaseUrl } from "@/infra/postgres";
import { createMigratedDatabase } from "@/infra/prisma/migrate";
import { createDb, poolOf } from "@/lib/db";
import type pg from "pg";
import { getLogger, silentLogger } from "@/lib/log";
import { createProjector, type Projector, type ProjectorOptions } from "@/lib/projection/projector";
import { evolveRole, type RoleState } from "@/modules/roles/domain/role-state";
import { CannotApplyEventError } from "@/lib/projection/timeline";
import { evolveUser, type UserState } from "@/modules/users/domain/user-state";
import { app, decodeEvent, type DomainEvent } from "@/modules";
import { STREAM_NAMES, type StreamName } from "@/modules/streams";
import { wantedKeys, type KeyRing } from "@/lib/privacy/personal-data";

export interface TestContext extends AppClients<StreamName> {
  id: string;
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run integration tests through \`npm test\` (it starts PostgreSQL and Kafka).`);
  return value;
}

// One key-encryption key per test run (npm test sets it for every process it starts).
process.env.DATA_KEY_ENCRYPTION_KEY ??= randomBytes(32).toString("base64");

export async function createTestContext(label: string): Promise<TestContext> {
  const id = `${label}_${randomBytes(4).toString("hex")}`.toLowerCase().replace(/[^a-z0-9_]/g, "_");
  const adminUrl = requiredEnv("TEST_DATABASE_URL");
  await createMigratedDatabase(adminUrl, `it_${id}`);
  const url = databaseUrl(adminUrl, `it_${id}`);
  const env = {
    DATABASE_URL: url,
    KAFKA_BROKERS: requiredEnv("KAFKA_BROKERS"),
    KAFKA_TOPIC_PREFIX: `it.${id}.`,
    KAFKA_PARTITIONS: "4",
    PROJECTOR_GROUP_ID: `read-model-${id}`,
    KAFKA_PRODUCE_TIMEOUT_MS: "8000",
    // Projector processes a test spawns serve no metrics unless the test gives each a port.
    PROJECTOR_METRICS_PORT: "0",
    DATA_KEY_ENCRYPTION_KEY: process.env.DATA_KEY_ENCRYPTION_KEY!,
  };
  return { id, ...(await connectAppClients({ env, clientIdSuffix: `test-${id}`, actorName: "integration-test", streams: STREAM_NAMES })) };
}

export async function startProjector(
  t: TestContext,
  options: Pick<ProjectorOptions, "concurrency" | "lingerMs" | "onBatch" | "onStatement" | "restartBackoffMs" | "heartbeatIntervalMs"> = {},
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

export { endOffsets, readLog, waitUntilCaughtUp, type LogMessage } from "@/infra/log-harness";

/** The events of the log, decoded (unreadable messages are left out). */
export async function readEvents(t: TestContext): Promise<DomainEvent[]> {
  const events: DomainEvent[] = [];
  const log = await readLog(t);
  const ring = await t.personalData.ring(t.db, wantedKeys(log));
  for (const m of log) {
    const stream = STREAM_NAMES.find((s) => t.topics[s] === m.topic);
    if (!stream) continue;
    const decoded = decodeEvent(m.value, stream, m.key, ring);
    if (decoded.ok) events.push(decoded.event);
  }
  return events;
}

/** What the read model must hold: the fold of the whole log, with the projector's rules (infra/log-harness.ts). */
export async function foldLog(t: TestContext) {
  const cannotApply = (error: unknown) => error instanceof CannotApplyEventError;
  const log = await readLog(t);
  const ring = await t.personalData.ring(t.db, wantedKeys(log));
  const { states } = foldLogWith(log, domainStreams(t.topics, ring), cannotApply, t.config.KAFKA_PARTITIONS);
  return states;
}

/** The domain's decode and evolve per topic, for the log fold. */
const domainStreams = (topics: TestContext["topics"], ring: KeyRing) => ({
  users: { topic: topics.users, decode: (m: LogMessage) => decodeEvent(m.value, "users", m.key, ring), evolve: evolveUser },
  roles: { topic: topics.roles, decode: (m: LogMessage) => decodeEvent(m.value, "roles", m.key, ring), evolve: evolveRole },
});

/**
 * The read model's users and roles equal the fold of the whole log. `caughtUpWithin` (ms): first
 * wait that long at most for the projector to pass the log's end; 0 when the test waited already.
 */
export async function expectModelEqualsLog(t: TestContext, caughtUpWithin = 30_000) {
  if (caughtUpWithin > 0) await waitUntilCaughtUp(t, caughtUpWithin);
  const [model, fold] = await Promise.all([readModel(t), foldLog(t)]);
  expect(sorted(model.users)).toEqual(sorted(fold.users));
  expect(sorted(model.roles)).toEqual(sorted(fold.roles));
}

/** The schemas a rebuild works in, if any is left over (a finished or failed rebuild leaves none). */
export async function leftoverRebuildSchemas(t: TestContext): Promise<string[]> {
  const rows = await t.db.$queryRaw<{ name: string }[]>`
    SELECT nspname AS name FROM pg_namespace WHERE nspname IN ('read_model_rebuild', 'read_model_retired')`;
  return rows.map((r) => r.name);
}

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
        erasedAt: u.erasedAt?.toISOString() ?? null,
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

/**
 * A client whose raw transactions run on one pooled connection and have their round trips
 * counted: one entry per query node-postgres runs (each ends with a Sync), naming the first word of
 * each statement it carries ("BEGIN+INSERT" for a pipeline of two).
 */
export function countedRoundTrips(url: string) {
  const db = createDb(url, { poolSize: 1 });
  const pool = poolOf(db)!;
  const sent: string[] = [];
  pool.on("acquire", (client: pg.PoolClient & { counted?: boolean }) => {
    if (client.counted) return;
    client.counted = true;
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const q = args[0] as { text?: string; steps?: { text: string }[] } | string;
      sent.push(typeof q === "string" ? q : q.steps ? q.steps.map((s) => s.text.trim().split(/\s+/)[0]).join("+") : (q.text ?? "").trim().split(/\s+/)[0]!);
      return query(...args);
    };
  });
  return { db, pool, sent };
}
