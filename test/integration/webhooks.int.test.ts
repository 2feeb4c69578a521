/**
 * Webhooks (issue 14) on the real broker and PostgreSQL, delivering to a real
 * HTTP receiver in this process: signatures checked with the `standardwebhooks`
 * library receivers use, order per aggregate, retries while the others carry
 * on, automatic disabling, replay from a time, SSRF refusals, and a worker
 * process SIGKILLed mid-stream.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import pg from "pg";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localKeyWrapper } from "@/lib/crypto/key-wrapper";
import { getLogger, silentLogger } from "@/lib/log";
import {
  createWebhook,
  requestReplay,
  type WebhookDeps,
} from "@/modules/webhooks/application/subscriptions";
import { webhooksConfig } from "@/modules/webhooks/config";
import { post } from "@/modules/webhooks/delivery/post";
import { createWebhooksWorker } from "@/modules/webhooks/delivery/webhooks-worker";
import { createUser, updateUser } from "@/modules/users/application/user-commands";
import { createTestContext, eventually, readEvents, type TestContext } from "../integration";

interface Received {
  route: string;
  headers: Record<string, string>;
  body: string;
  event: { id: string; type: string; aggregateId: string; sequence?: number };
}

let t: TestContext;
let receiver: Server;
let base: string;
const received: Received[] = [];
/** Per route: how to answer the n-th request (1-based); default 200. */
const behaviour = new Map<string, (n: number) => number>();
const counts = new Map<string, number>();
/** Per route: work done before the answer (e.g. taking a lock), awaited. */
const onRequest = new Map<string, () => Promise<void>>();
// The run's key-encryption key (test/integration.ts): it wraps the webhook secrets and the
// personal-data keys the sender decrypts payloads with, as one deployment's single KEK does.
const kek = Buffer.from(process.env.DATA_KEY_ENCRYPTION_KEY!, "base64");
const keys = localKeyWrapper(kek);
const root = path.resolve(__dirname, "../..");

const settings = (group: string) => ({
  WEBHOOKS_GROUP_ID: group,
  WEBHOOKS_ALLOW_PRIVATE_TARGETS: "true",
  WEBHOOKS_TIMEOUT_MS: "1000",
  WEBHOOKS_RETRY_INITIAL_MS: "100",
  WEBHOOKS_RETRY_MAX_MS: "300",
  WEBHOOKS_DISABLE_AFTER_MS: "1500",
  WEBHOOKS_METRICS_PORT: "0",
});
let deps: WebhookDeps;
let worker: ReturnType<typeof createWebhooksWorker> | null = null;
const startWorker = async () => {
  worker = createWebhooksWorker({ db: t.db, keys, config: webhooksConfig(settings(`webhooks-${t.id}`)), kafkaConfig: t.config, logger: process.env.DEBUG_WEBHOOKS ? getLogger() : silentLogger });
  await worker.start();
};

const stopWorker = async () => {
  for (const step of worker?.steps() ?? []) await step.run();
  worker = null;
};

/** A subscription delivering to `route` on the receiver; answers its id and secret. */
async function subscribe(route: string, eventTypes: string[] = []) {
  const input = eventTypes.length ? { url: `${base}/${route}`, scope: "selected", eventTypes } : { url: `${base}/${route}`, scope: "all" };
  return createWebhook(deps, input, "it@example.com");
}

const to = (route: string) => received.filter((r) => r.route === route);

beforeAll(async () => {
  t = await createTestContext("webhooks");
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const route = (req.url ?? "/").slice(1);
      const n = (counts.get(route) ?? 0) + 1;
      counts.set(route, n);
      await onRequest.get(route)?.();
      const status = behaviour.get(route)?.(n) ?? 200;
      const body = Buffer.concat(chunks).toString("utf8");
      if (status === 200) {
        received.push({ route, headers: req.headers as Record<string, string>, body, event: JSON.parse(body) as Received["event"] });
      }
      res.writeHead(status, { "content-type": "text/plain" }).end(status === 200 ? "thanks" : `no (${n})`);
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  deps = { db: t.db, keys, config: webhooksConfig(settings(`webhooks-${t.id}`)) };
  await startWorker();
}, 60_000);

afterAll(async () => {
  await stopWorker();
  await new Promise((resolve) => receiver?.close(resolve));
  await t?.close();
});

describe("webhooks", () => {
  it("delivers every selected event signed as Standard Webhooks says, each aggregate's events in order", async () => {
    const all = await subscribe("all");
    const created = await subscribe("created", ["UserCreated"]);
    const users: string[] = [];
    for (let i = 0; i < 4; i++) {
      const u = await createUser(t.deps, t.ctx, { email: `order-${i}-${t.id}@example.com`, name: `Order ${i}` });
      users.push(u.aggregateId);
    }
    for (let round = 0; round < 3; round++) {
      for (const [i, userId] of users.entries()) {
        await updateUser(t.deps, t.ctx, { userId, expectedVersion: round + 1, name: `Order ${i} r${round}` });
      }
    }
    const got = await eventually(async () => to("all"), (r) => r.length >= 16);
    expect(got).toHaveLength(16);
    await eventually(async () => to("created"), (r) => r.length >= 4);
    expect(to("created").map((r) => r.event.type)).toEqual(Array(4).fill("UserCreated"));

    for (const r of got) {
      // Throws unless the signature, id and timestamp hold (what a receiver runs).
      const verified = new Webhook(all.secret).verify(r.body, r.headers) as { id: string };
      expect(verified.id).toBe(r.headers["webhook-id"]);
      expect(r.headers["webhook-id"]).toBe(r.event.id);
      expect(() => new Webhook(created.secret).verify(r.body, r.headers)).toThrow();
    }
    for (const userId of users) {
      expect(got.filter((r) => r.event.aggregateId === userId).map((r) => r.event.sequence)).toEqual([1, 2, 3, 4]);
    }
    // Exactly what the log holds for these users, as the application reads it.
    const log = (await readEvents(t)).filter((e) => users.includes(e.aggregateId));
    expect(got.map((r) => JSON.parse(r.body)).sort((a, b) => a.id.localeCompare(b.id))).toEqual(
      JSON.parse(JSON.stringify(log)).sort((a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id)),
    );
  });

  it("retries a failing receiver with backoff until it accepts, while the other subscriptions carry on", async () => {
    behaviour.set("flaky", (n) => (n <= 3 ? 503 : 200));
    const flaky = await subscribe("flaky");
    await subscribe("steady");
    const u = await createUser(t.deps, t.ctx, { email: `retry-${t.id}@example.com`, name: "Retry" });
    const steady = await eventually(async () => to("steady"), (r) => r.some((x) => x.event.aggregateId === u.aggregateId), 10_000);
    expect(steady.some((x) => x.event.aggregateId === u.aggregateId)).toBe(true);
    // The steady one got it while the flaky one was still being refused.
    expect(to("flaky")).toHaveLength(0);
    const flakyGot = await eventually(async () => to("flaky"), (r) => r.length >= 1, 10_000);
    expect(flakyGot.map((r) => r.event.aggregateId)).toEqual([u.aggregateId]);
    // The receiver has answered; the worker records the attempt right after.
    const attempts = await eventually(
      () => t.db.webhookAttempt.findMany({ where: { subscriptionId: flaky.id }, orderBy: { id: "asc" } }),
      (rows) => rows.length >= 4,
      5_000,
    );
    expect(attempts.map((a) => [a.attempt, a.ok, a.statusCode])).toEqual([
      [1, false, 503],
      [2, false, 503],
      [3, false, 503],
      [4, true, 200],
    ]);
    expect(attempts[0]!.responseExcerpt).toBe("no (1)");
    expect((await t.db.webhookSubscription.findUniqueOrThrow({ where: { id: flaky.id } })).failingSince).toBeNull();
  });

  it("disables a subscription that has failed for longer than WEBHOOKS_DISABLE_AFTER_MS, saying why", async () => {
    behaviour.set("down", () => 500);
    const down = await subscribe("down");
    await createUser(t.deps, t.ctx, { email: `down-${t.id}@example.com`, name: "Down" });
    const s = await eventually(
      () => t.db.webhookSubscription.findUniqueOrThrow({ where: { id: down.id } }),
      (row) => row.status === "disabled",
      10_000,
    );
    expect(s.status).toBe("disabled");
    expect(s.disabledReason).toMatch(/^Disabled automatically at .*deliveries have failed since .*HTTP 500/);
    const changes = await t.db.webhookSubscriptionChange.findMany({ where: { subscriptionId: down.id }, orderBy: { id: "asc" } });
    expect(changes.map((c) => [c.action, c.actor])).toEqual([
      ["created", "it@example.com"],
      ["disabled", "system"],
    ]);
    // Nothing more is attempted, and the event waits in the queue for an enable.
    const tried = await t.db.webhookAttempt.count({ where: { subscriptionId: down.id } });
    await new Promise((r) => setTimeout(r, 600));
    expect(await t.db.webhookAttempt.count({ where: { subscriptionId: down.id } })).toBe(tried);
    expect(await t.db.webhookDelivery.count({ where: { subscriptionId: down.id } })).toBe(1);
  });

  it("replays from a time: the subscription's events from then on, again, in order, with their own ids", async () => {
    const before = await createUser(t.deps, t.ctx, { email: `before-${t.id}@example.com`, name: "Before" });
    await new Promise((r) => setTimeout(r, 50));
    const from = new Date();
    const after: string[] = [];
    for (let i = 0; i < 2; i++) {
      const u = await createUser(t.deps, t.ctx, { email: `after-${i}-${t.id}@example.com`, name: `After ${i}` });
      await updateUser(t.deps, t.ctx, { userId: u.aggregateId, expectedVersion: 1, name: `After ${i} again` });
      after.push(u.aggregateId);
    }
    // Created afterwards: live delivery gives it nothing of the past; the replay does.
    const late = await subscribe("late", ["UserCreated", "UserUpdated"]);
    await requestReplay(deps, late.id, { from: "time", fromTime: from.toISOString() }, "it@example.com");
    const got = await eventually(async () => to("late"), (r) => r.length >= 4, 20_000);
    const expected = (await readEvents(t)).filter((e) => after.includes(e.aggregateId));
    expect(got.map((r) => r.event.aggregateId)).not.toContain(before.aggregateId);
    expect(got.map((r) => r.event.id).sort()).toEqual(expected.map((e) => e.id).sort());
    for (const userId of after) {
      expect(got.filter((r) => r.event.aggregateId === userId).map((r) => r.event.type)).toEqual(["UserCreated", "UserUpdated"]);
    }
    const replay = await eventually(
      () => t.db.webhookReplay.findFirstOrThrow({ where: { subscriptionId: late.id } }),
      (r) => r.status === "done",
    );
    expect([replay.status, replay.queued]).toEqual(["done", 4]);
  }, 30_000);

  it("refuses loopback, private and link-local targets, when saved and when connecting", async () => {
    const strict = { ...deps, config: { ...deps.config, WEBHOOKS_ALLOW_PRIVATE_TARGETS: false } };
    for (const url of [`${base}/x`, "http://localhost:9/x", "http://[::1]/x", "http://169.254.169.254/latest", "http://10.1.2.3/", "http://[::ffff:192.168.0.1]/"]) {
      await expect(createWebhook(strict, { url, scope: "all" }, "it@example.com"), url).rejects.toMatchObject({
        code: "invariant",
        message: expect.stringMatching(/refused: .*(loopback, private or link-local)/),
      });
    }
    // Checked again at connection time: a name that resolves to loopback now is refused by the request itself.
    const strictPost = { timeoutMs: 1_000, maxResponseBytes: 1_000, allowPrivate: false };
    const byName = await post(`http://localhost:${new URL(base).port}/never`, {}, "{}", strictPost);
    expect(byName).toMatchObject({ ok: false, statusCode: null, error: expect.stringMatching(/^refused: localhost resolved to .* loopback/) });
    const byAddress = await post(`${base}/never`, {}, "{}", strictPost);
    expect(byAddress).toMatchObject({ ok: false, error: "refused: 127.0.0.1 is a loopback, private or link-local address" });
    expect(counts.get("never")).toBeUndefined();
  });

  it("does not send a delivery again while its own request is still being recorded, even after its lease ran out", async () => {
    // The receiver answers 200 only after a transaction here holds the delivery's row (FOR KEY
    // SHARE): the worker's DELETE of the delivered row waits, past the 3 s lease (2 × 1 s timeout
    // + 1 s), as a worker starved of CPU or of its database would. The row's lease is then out;
    // the same worker must not claim and send it again.
    const holder = new pg.Client({ connectionString: t.env.DATABASE_URL });
    await holder.connect();
    let held = false;
    behaviour.set("slow-record", () => 200);
    const sub = await subscribe("slow-record", ["UserCreated"]);
    onRequest.set("slow-record", async () => {
      if (held) return;
      held = true;
      await holder.query("BEGIN");
      await holder.query("SELECT id FROM webhook_deliveries WHERE subscription_id = $1 FOR KEY SHARE", [sub.id]);
    });
    try {
      await createUser(t.deps, t.ctx, { email: `slow-record-${t.id}@example.com`, name: "Slow Record" });
      await eventually(async () => to("slow-record"), (r) => r.length >= 1, 20_000);
      // Past the lease, and several polls of the claim loop.
      await new Promise((r) => setTimeout(r, 4_500));
      expect(counts.get("slow-record")).toBe(1);
    } finally {
      if (held) await holder.query("COMMIT");
      await holder.end();
    }
    // Released, the outcome is recorded once: the row is gone and one attempt is logged.
    await eventually(() => t.db.webhookDelivery.count({ where: { subscriptionId: sub.id } }), (n) => n === 0, 10_000);
    expect(await t.db.webhookAttempt.count({ where: { subscriptionId: sub.id } })).toBe(1);
    expect(counts.get("slow-record")).toBe(1);
  });

  it("queues again what a database restored from before its positions lost, instead of going on from Kafka's committed offset", async () => {
    const restored = await subscribe("restored", ["UserCreated"]);
    const user = await createUser(t.deps, t.ctx, { email: `restored-${t.id}@example.com`, name: "Restored" });
    const first = await eventually(async () => to("restored"), (r) => r.length >= 1);
    expect(first.map((r) => r.event.aggregateId)).toEqual([user.aggregateId]);
    await stopWorker(); // Kafka holds the dispatcher's commits past that event
    // PostgreSQL restored from a backup taken before the dispatcher's first batches: no positions,
    // and no record that the event was ever queued. (Only this subscription is active in it.)
    await t.db.webhookPosition.deleteMany({ where: { consumerGroup: `webhooks-${t.id}` } });
    await t.db.webhookSubscription.updateMany({ where: { id: { not: restored.id } }, data: { status: "disabled" } });
    await startWorker();
    // Queued and sent again (at least once: the same webhook-id, for the receiver to drop), not skipped.
    const again = await eventually(async () => to("restored"), (r) => r.length >= 2, 30_000);
    expect(again.map((r) => r.headers["webhook-id"])).toEqual([first[0]!.headers["webhook-id"], first[0]!.headers["webhook-id"]]);
  }, 60_000);

  it("tells Kafka its stored positions when it is assigned its partitions, so Kafka's committed offsets are not left behind them", async () => {
    const group = `webhooks-${t.id}`;
    await stopWorker();
    // Kafka's commits behind PostgreSQL's positions, as a process that died between the two
    // commits leaves them: each partition's committed offset back at 0.
    const stored = await t.db.webhookPosition.findMany({ where: { consumerGroup: group } });
    expect(stored.some((row) => row.nextOffset > 0n)).toBe(true);
    for (const topic of new Set(stored.map((row) => row.topic))) {
      const partitions = stored.filter((row) => row.topic === topic).map((row) => ({ partition: row.partition, offset: "0" }));
      await t.admin.setOffsets({ groupId: group, topic, partitions });
    }
    await startWorker();
    // PostgreSQL is the truth: on assignment the stored positions go to Kafka too, not only with
    // each partition's next event (the lag Kafka's own tools report is computed from them).
    await expect
      .poll(async () => {
        const committed = await t.admin.fetchOffsets({ groupId: group, topics: [...new Set(stored.map((row) => row.topic))] });
        const byKey = new Map(committed.flatMap((c) => c.partitions.map((p) => [`${c.topic}/${p.partition}`, p.offset])));
        return stored.filter((row) => byKey.get(`${row.topic}/${row.partition}`) !== String(row.nextOffset)).map((row) => `${row.topic}/${row.partition}`);
      }, { timeout: 15_000 })
      .toEqual([]);
  }, 60_000);

  it("loses nothing when its worker process is SIGKILLed mid-stream and restarted; repeats stay within the requests in flight", async () => {
    await stopWorker(); // from here on, only the process below sends
    behaviour.set("crash", () => 200);
    const crash = await subscribe("crash", ["UserCreated"]);
    const env = {
      ...process.env,
      ...t.env,
      ...settings(`webhooks-crash-${t.id}`),
      DATA_KEY_ENCRYPTION_KEY: kek.toString("base64"),
      LOG_LEVEL: process.env.DEBUG_WEBHOOKS ? "debug" : "warn",
    };
    const output: string[] = [];
    const spawnWorker = (): ChildProcess => {
      const child = spawn(process.execPath, ["--import", "tsx", "workers/webhooks.ts"], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
      child.stdout?.on("data", (c: Buffer) => output.push(c.toString()));
      child.stderr?.on("data", (c: Buffer) => output.push(c.toString()));
      return child;
    };
    const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once("exit", () => resolve())));
    let child = spawnWorker();
    const ids: string[] = [];
    const write = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const u = await createUser(t.deps, t.ctx, { email: `crash-${ids.length}-${t.id}@example.com`, name: "Crash" });
        ids.push(u.aggregateId);
      }
    };
    try {
      await write(10);
      await eventually(async () => to("crash"), (r) => r.length >= 3, 20_000);
      child.kill("SIGKILL");
      await exited(child);
      await write(10); // while no worker runs
      child = spawnWorker();
      const got = await eventually(async () => to("crash"), (r) => new Set(r.map((x) => x.event.aggregateId)).size >= 20, 30_000);
      expect(new Set(got.map((r) => r.event.aggregateId))).toEqual(new Set(ids));
      // At least once: a repeat is only a request that was in flight when the process died.
      const repeats = got.length - new Set(got.map((r) => r.event.id)).size;
      expect(repeats).toBeLessThanOrEqual(Number(webhooksConfig({}).WEBHOOKS_CONCURRENCY_PER_SUBSCRIPTION));
      const queued = await eventually(() => t.db.webhookDelivery.count({ where: { subscriptionId: crash.id } }), (n) => n === 0, 5_000);
      expect(queued).toBe(0);
    } catch (error) {
      console.log(output.join(""));
      throw error;
    } finally {
      child.kill("SIGTERM");
      await exited(child);
    }
  }, 60_000);
});
