/**
 * Crypto-shredding end to end (issue 12), on the real broker and PostgreSQL:
 * an administrator with a long history, including changes they made to
 * others, is erased; then no topic (raw bytes), no table (a text dump) and
 * no log line holds their email, name, IP or user agent in clear, every view
 * shows "[erased]", the read model equals the fold of the log, and a rebuild
 * switches with every table equal. An event another service wrote in clear
 * is counted, shown erased, and reported.
 */
import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { ConfigResourceTypes } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Actor } from "@/lib/events/envelope";
import { silentLogger } from "@/lib/log";
import { ERASED } from "@/lib/privacy/personal-data";
import type { Projector } from "@/lib/projection/projector";
import { runRebuild } from "@/lib/projection/rebuild/rebuild";
import { app, decodeEvent, encodeEvent, serde } from "@/modules";
import { wantedKeys } from "@/lib/privacy/personal-data";
import { createPersonalDataKeys, PersonErasedError } from "@/lib/privacy/key-store";
import { event } from "@/test/fixtures";
import { eraseUser } from "@/modules/privacy/application/erase-person";
import { createRole } from "@/modules/roles/application/role-commands";
import { eraseExpiredUsers } from "@/modules/privacy/application/retention";
import { assignRole, createUser, deleteUser, recordLogin, updateUser } from "@/modules/users/application/user-commands";
import { getTimelinePage } from "@/modules/users/read/user-timeline";
import { createTestContext, expectModelEqualsLog, foldLog, readLog, readModel, sorted, startProjector, waitUntilCaughtUp, type TestContext } from "../integration";

let t: TestContext;
let projector: Projector;

const ada = { email: "ada.lovelace@example.com", name: "Ada Lovelace", ip: "198.51.100.77", userAgent: "AdaBrowser/1.0 (Analytical Engine)" };
const formerName = "Augusta Ada King";
const secrets = [ada.email, ada.name, ada.ip, ada.userAgent, formerName];

/** Every table of the database as text, one line per row. */
async function dumpDatabase(): Promise<string> {
  const tables = await t.db.$queryRaw<{ name: string }[]>`
    SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`;
  const lines: string[] = [];
  for (const { name } of tables) {
    const rows = await t.db.$queryRawUnsafe<{ row: string }[]>(`SELECT t::text AS row FROM "${name}" t`);
    for (const r of rows) lines.push(`${name}: ${r.row}`);
  }
  return lines.join("\n");
}

/** Every message of every topic of this test, raw bytes as text. */
async function dumpTopics(): Promise<string> {
  const topics = (await t.admin.listTopics()).filter((name) => name.startsWith(t.config.KAFKA_TOPIC_PREFIX));
  const log = await readLog({ ...t, topics: Object.fromEntries(topics.map((n) => [n, n])) as TestContext["topics"] });
  return log.map((m) => `${m.topic}/${m.offset} ${m.key} ${JSON.stringify(m.headers)} ${m.value?.toString("latin1")}`).join("\n");
}

const found = (text: string) => secrets.filter((s) => text.toLowerCase().includes(s.toLowerCase()));

/**
 * Every file of this test's database in PostgreSQL's data directory, and of its topics in the
 * broker's log directories, each searched for the secrets as raw bytes. First the maintenance the
 * README asks for after erasures: ANALYZE (statistics keep samples of column values), VACUUM FULL
 * (dead row versions stay in the table's pages until then) and a CHECKPOINT (dropped and
 * rewritten files are unlinked then). PostgreSQL's WAL is not scanned: it is the server's journal,
 * recycled after checkpoints (README, Privacy: what erasure does not guarantee).
 */
async function scanFiles(): Promise<{ scanned: number; found: string[] }> {
  await t.db.$executeRawUnsafe("ANALYZE");
  await t.db.$executeRawUnsafe("VACUUM FULL");
  await t.db.$executeRawUnsafe("CHECKPOINT");
  const [pg] = await t.db.$queryRaw<{ dir: string; oid: string }[]>`
    SELECT current_setting('data_directory') AS dir, oid::text FROM pg_database WHERE datname = current_database()`;
  const roots = [path.join(pg!.dir, "base", pg!.oid)];
  const cluster = await t.admin.describeCluster();
  for (const broker of cluster.brokers) {
    const described = await t.admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.BROKER, name: String(broker.nodeId), configNames: ["log.dirs", "log.dir"] }],
    });
    const entries = described.resources[0]?.configEntries ?? [];
    // log.dirs when set, else log.dir (Kafka's own rule).
    const value = entries.find((e) => e.configName === "log.dirs" && e.configValue)?.configValue ?? entries.find((e) => e.configName === "log.dir")?.configValue;
    {
      for (const dir of (value ?? "").split(",").filter(Boolean)) {
        for (const name of readdirSync(dir)) if (name.startsWith(t.config.KAFKA_TOPIC_PREFIX)) roots.push(path.join(dir, name));
      }
    }
  }
  const hits: string[] = [];
  let scanned = 0;
  const walk = (p: string) => {
    if (statSync(p).isDirectory()) return readdirSync(p).forEach((name) => walk(path.join(p, name)));
    scanned++;
    for (const secret of found(readFileSync(p).toString("latin1"))) hits.push(`${p}: ${secret}`);
  };
  roots.forEach(walk);
  expect(roots.length, `no log directory of this test's topics found (${roots.join(", ")})`).toBeGreaterThan(1);
  return { scanned, found: hits };
}

let adaId: string;
let otherId: string;

beforeAll(async () => {
  t = await createTestContext("privacy");
  projector = await startProjector(t);
  adaId = (await createUser(t.deps, t.ctx, ada)).aggregateId;
  const asAda = { actor: { kind: "user", userId: adaId, email: ada.email, name: ada.name } satisfies Actor };
  await recordLogin(t.deps, asAda, { userId: adaId, ip: ada.ip, userAgent: ada.userAgent });
  await updateUser(t.deps, asAda, { userId: adaId, expectedVersion: 2, name: formerName });
  // Ada, as an administrator, changes other people and roles.
  const role = (await createRole(t.deps, asAda, { name: "auditors" })).aggregateId;
  otherId = (await createUser(t.deps, asAda, { email: "grace@example.com", name: "Grace Hopper" })).aggregateId;
  await updateUser(t.deps, asAda, { userId: otherId, expectedVersion: 1, name: "Grace B. Hopper" });
  await assignRole(t.deps, asAda, { userId: otherId, roleId: role });
  await assignRole(t.deps, t.ctx, { userId: adaId, roleId: role });
  await updateUser(t.deps, asAda, { userId: adaId, expectedVersion: 4, email: "ada@example.org", name: ada.name });
  await updateUser(t.deps, asAda, { userId: adaId, expectedVersion: 5, email: ada.email });
  await waitUntilCaughtUp(t);
}, 120_000);

afterAll(async () => {
  await projector?.stop();
  await t?.close();
});

describe("crypto-shredding", () => {
  it("retention erases users deleted longer ago than the period, and only those", async () => {
    const old = (await createUser(t.deps, t.ctx, { email: "gone.long@example.com", name: "Gone Long" })).aggregateId;
    const recent = (await createUser(t.deps, t.ctx, { email: "gone.now@example.com", name: "Gone Now" })).aggregateId;
    const live = (await createUser(t.deps, t.ctx, { email: "still.here@example.com", name: "Still Here" })).aggregateId;
    await deleteUser(t.deps, t.ctx, { userId: old, expectedVersion: 1 });
    await waitUntilCaughtUp(t);
    await new Promise((r) => setTimeout(r, 1_500));
    await deleteUser(t.deps, t.ctx, { userId: recent, expectedVersion: 1 });
    await waitUntilCaughtUp(t);
    expect(await eraseExpiredUsers(t.deps, 1_000)).toEqual([old]);
    await waitUntilCaughtUp(t);
    const rows = await t.db.user.findMany({ where: { id: { in: [old, recent, live] } }, orderBy: { email: "asc" } });
    expect(rows.map((r) => [r.id, r.email, r.erasedAt !== null])).toEqual(
      expect.arrayContaining([[old, ERASED, true], [recent, "gone.now@example.com", false], [live, "still.here@example.com", false]]),
    );
    const last = await getTimelinePage(t.db, old);
    expect(last!.entries[0]).toMatchObject({ type: "UserErased", actor: { kind: "service", name: "retention" } });
  }, 60_000);

  it("commits a person's key before an event sealed with it can be read, even while the command's transaction is open", async () => {
    const id = randomUUID();
    const created = { ...event("UserCreated", id, 1, { email: "early.reader@example.com", name: "Early Reader" }) };
    await t.db.$transaction(async (tx) => {
      await t.appender.prepare([id]); // as every command does before its transaction (lib/command/execute.ts)
      await t.appender.append([created], serde, { tx });
      // The broker has the event; the transaction has not committed. A projector reads it now:
      const log = (await readLog(t)).filter((m) => m.key === id);
      const ring = await t.personalData.ring(t.db, wantedKeys(log));
      const read = decodeEvent(log[0]!.value, "users", id, ring);
      expect(read).toMatchObject({ ok: true, event: { payload: { email: "early.reader@example.com", name: "Early Reader" } } });
    });
  });

  it("gives concurrent writers of a new person one key, and an erased person none", async () => {
    // Two processes (their own key stores and writer pools) create the same new person's key at once.
    const other = createPersonalDataKeys(t.db, t.personalData.wrapper, { writer: t.db });
    const id = randomUUID();
    const [a, b] = await Promise.all([t.personalData.writeKeys([id]), other.writeKeys([id])]);
    expect(a.get(id)!.keyId).toBe(b.get(id)!.keyId);
    expect(a.get(id)!.key.equals(b.get(id)!.key)).toBe(true);
    const rows = await t.db.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM personal_data_keys WHERE subject_id = ${id}::uuid`;
    expect(rows[0]!.n).toBe(1);
    // After an erasure no writer recreates the key: prepare skips the person, writeKeys refuses.
    await t.db.$transaction((tx) => other.erase(tx, id));
    const fresh = createPersonalDataKeys(t.db, t.personalData.wrapper, { writer: t.db });
    await fresh.prepare([id]);
    await expect(fresh.writeKeys([id])).rejects.toBeInstanceOf(PersonErasedError);
  });

  it("a reader that kept a person's key between batches stops using it once another process erases them", async () => {
    const id = randomUUID();
    const keys = await t.personalData.writeKeys([id]);
    const keyId = keys.get(id)!.keyId;
    const wanted = { keyIds: [keyId], subjects: [id] };
    const reader = createPersonalDataKeys(t.db, t.personalData.wrapper); // a projector's key store
    expect((await reader.ring(t.db, wanted)).key(keyId)!.equals(keys.get(id)!.key)).toBe(true);
    // Erased by another process (a command in the console): the reader's cache is not told.
    const eraser = createPersonalDataKeys(t.db, t.personalData.wrapper, { writer: t.db });
    await t.db.$transaction((tx) => eraser.erase(tx, id));
    const after = await reader.ring(t.db, wanted);
    expect(after.key(keyId)).toBeUndefined();
    expect(after.isErased(id)).toBe(true);
  });

  it("hands out new people's ids with their keys already committed, each id once, and deletes the unused ones on close", async () => {
    const writer = createPersonalDataKeys(t.db, t.personalData.wrapper, { writer: t.db });
    const ids = await Promise.all(Array.from({ length: 40 }, () => writer.newSubject()));
    expect(new Set(ids).size).toBe(40);
    // Another process (no cache) finds every key by id before any event exists: a reader never waits for one.
    const keys = await writer.writeKeys(ids);
    const ring = await createPersonalDataKeys(t.db, t.personalData.wrapper).ring(t.db, { keyIds: [...keys.values()].map((k) => k.keyId), subjects: ids });
    for (const id of ids) expect(ring.key(keys.get(id)!.keyId)!.equals(keys.get(id)!.key)).toBe(true);
    const made = await t.db.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM personal_data_keys`;
    await writer.close();
    const left = await t.db.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM personal_data_keys`;
    expect(made[0]!.n - left[0]!.n).toBeGreaterThan(0); // the ones made ahead and never handed out
    const kept = await t.db.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM personal_data_keys WHERE subject_id = ANY(${ids}::uuid[])`;
    expect(kept[0]!.n).toBe(40);
  });

  it("writes nobody's personal data in clear to the log, and the read model reads it back", async () => {
    expect(found(await dumpTopics())).toEqual([]);
    const user = await t.db.user.findUniqueOrThrow({ where: { id: adaId } });
    expect([user.email, user.name]).toEqual([ada.email, ada.name]);
    expect(sorted(await readModel(t).then((m) => m.users))).toEqual(sorted((await foldLog(t)).users));
  });

  it("erasing a person leaves their data nowhere in clear, shows [erased] everywhere, and a rebuild switches equal", async () => {
    const result = await eraseUser(t.deps, t.ctx, { userId: adaId, reason: "GDPR request #1" });
    expect(result.events.map((e) => e.event.type)).toEqual(["UserDeleted", "UserErased"]);
    expect(result.eventsInClear).toBe(0);
    await waitUntilCaughtUp(t);

    expect(found(await dumpTopics())).toEqual([]);
    expect(found(await dumpDatabase())).toEqual([]);

    const user = await t.db.user.findUniqueOrThrow({ where: { id: adaId } });
    expect([user.email, user.name, user.isDeleted, user.erasedAt !== null]).toEqual([ERASED, ERASED, true, true]);
    // Her history stays readable without her data; so does the history of those she changed.
    const own = await getTimelinePage(t.db, adaId);
    expect(own!.entries.map((e) => e.type)).toEqual([
      "UserErased", "UserDeleted", "UserUpdated", "UserUpdated", "RoleAssignedToUser", "UserUpdated", "UserLoggedIn", "UserCreated",
    ]);
    const grace = await getTimelinePage(t.db, otherId);
    expect(grace!.entries.every((e) => e.actor.kind === "user" && e.actor.email === ERASED)).toBe(true);
    const other = await t.db.user.findUniqueOrThrow({ where: { id: otherId } });
    expect(other.name).toBe("Grace B. Hopper");

    // The live model equals the fold of the log as it now reads (her key is gone).
    await expectModelEqualsLog(t, 0);

    const outcome = await runRebuild({ db: t.db, config: t.config, app, kafka: t.kafka, logger: silentLogger, closeEnough: 20, runId: "erased" });
    expect(outcome.status, outcome.message).toBe("switched");
    if (outcome.status === "switched") expect(outcome.comparison.filter((c) => !c.equal)).toEqual([]);

    // Nor in any file of the database or of the topics, once PostgreSQL's maintenance has run.
    const files = await scanFiles();
    expect(files.scanned).toBeGreaterThan(10);
    expect(files.found).toEqual([]);

    // Erasing twice is refused with a clear reason.
    await expect(eraseUser(t.deps, t.ctx, { userId: adaId, reason: "again" })).rejects.toThrow(/already erased/);
  }, 120_000);

  it("an event another service wrote in clear is counted, shown erased after an erasure, and reported", async () => {
    const id = randomUUID();
    const event = {
      id: randomUUID(),
      type: "UserCreated" as const,
      schemaVersion: 1,
      aggregateId: id,
      sequence: 1,
      occurredAt: new Date().toISOString(),
      actor: { kind: "service" as const, name: "hr-import" },
      correlationId: randomUUID(),
      causationId: null,
      payload: { email: "clear.person@example.com", name: "Clear Person" },
    };
    const message = encodeEvent(event); // no keys: in clear, as a plain producer writes it
    const producer = t.kafka.producer();
    await producer.connect();
    await producer.send({ topic: t.topics.users, messages: [message] });
    await producer.disconnect();
    await waitUntilCaughtUp(t);
    const counted = await t.db.personalDataInClear.findUnique({ where: { stream: "users" } });
    expect(Number(counted?.events)).toBe(1);

    const result = await eraseUser(t.deps, t.ctx, { userId: id, reason: "GDPR request #2" });
    expect(result.eventsInClear).toBe(1);
    await waitUntilCaughtUp(t);
    const user = await t.db.user.findUniqueOrThrow({ where: { id } });
    expect([user.email, user.name]).toEqual([ERASED, ERASED]);
    expect(await dumpDatabase()).not.toContain("clear.person@example.com");
    // The log itself still holds it: that is what eventsInClear reports.
    expect(await dumpTopics()).toContain("clear.person@example.com");
  }, 60_000);
});
