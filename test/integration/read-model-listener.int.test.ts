/**
 * The live-update source against real PostgreSQL and Kafka: a projected batch
 * reaches a subscriber as a `changed` message naming the stream and the ids;
 * when its connection is killed, the listener reconnects by itself, tells
 * subscribers to resync, and keeps delivering.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Projector } from "@/lib/projection/projector";
import { createTestContext, startProjector, type TestContext } from "@/test/integration";
import type { LiveMessage } from "@/lib/live/live-message";
import { ReadModelListener } from "@/lib/live/read-model-listener";
import { app } from "@/modules";
import { createRole } from "@/modules/roles/application/role-commands";

let t: TestContext;
let projector: Projector;
let listener: ReadModelListener;
const received: LiveMessage[] = [];

async function waitFor<T>(find: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`not received within ${timeoutMs} ms: ${JSON.stringify(received)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const changedRole = (id: string) => () =>
  received.find((m) => m.kind === "changed" && m.stream === "roles" && m.ids.includes(id));

beforeAll(async () => {
  t = await createTestContext("live");
  projector = await startProjector(t);
  listener = new ReadModelListener(t.databaseUrl, t.config.KAFKA_TOPIC_PREFIX, app.streams);
  listener.subscribe((m) => received.push(m));
});

afterAll(async () => {
  await listener?.close();
  await projector?.stop();
  await t?.close();
});

async function listenerBackends(): Promise<number[]> {
  const rows = await t.db.$queryRaw<{ pid: number }[]>`
    SELECT pid FROM pg_stat_activity WHERE application_name = 'admin-console-live' AND datname = current_database()`;
  return rows.map((r) => r.pid);
}

describe("ReadModelListener", () => {
  it("delivers each projected batch with its stream and aggregate ids", async () => {
    await waitForAsync(async () => ((await listenerBackends()).length === 1 ? true : undefined));
    const role = await createRole(t.deps, t.ctx, { name: "Live", description: "" });
    await waitFor(changedRole(role.aggregateId));
  });

  it("reconnects after losing its connection, asks for a resync, and keeps delivering", async () => {
    const [pid] = await listenerBackends();
    await t.db.$queryRaw`SELECT pg_terminate_backend(${pid}::int)`;
    await waitFor(() => received.find((m) => m.kind === "resync"));
    const role = await createRole(t.deps, t.ctx, { name: "After reconnect", description: "" });
    await waitFor(changedRole(role.aggregateId));
    expect(await listenerBackends()).toHaveLength(1);
  });
});

async function waitForAsync<T>(find: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
