/**
 * Scale-out: two projector processes (real workers, as `npm start -- --projectors 2`
 * runs them) share the partitions of one consumer group. One is SIGKILLed while
 * events stream in; the other takes over its partitions, and the read model
 * ends equal to the fold of the whole log: nothing lost, nothing applied twice.
 */
import { app } from "@/modules";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnProjector, type ProjectorProcess } from "@/drills/lib/projector";
import { asMessage, pump, SyntheticEvents, volumeProducer } from "@/drills/lib/synthetic";
import { rng } from "@/drills/lib/util";
import { freePorts } from "@/infra/ports";
import { getHealth } from "@/modules/operations/read/health";
import { createTestContext, expectModelEqualsLog, readEvents, waitUntilCaughtUp, type TestContext } from "../integration";

let t: TestContext;
const running: ProjectorProcess[] = [];
const logDir = mkdtempSync(path.join(tmpdir(), "scale-out-"));

beforeAll(async () => {
  t = await createTestContext("scaleout");
});
afterAll(async () => {
  await Promise.all(running.map((p) => p.kill("SIGKILL")));
  await t?.close();
});

const health = () =>
  getHealth({ db: t.db, admin: async () => t.admin, group: t.config.PROJECTOR_GROUP_ID, topics: Object.values(t.topics) });

/** Partitions each live instance holds, as the instances recorded them ("topic/partition"). */
async function holdings(): Promise<Map<number, Set<string>>> {
  const h = await health();
  return new Map(
    h.instances
      .filter((i) => i.isAlive)
      .map((i) => [i.pid, new Set(Object.entries(i.assignment).flatMap(([topic, ps]) => ps.map((p) => `${topic}/${p}`)))]),
  );
}

async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) {
      const last = value instanceof Map ? JSON.stringify([...value].map(([k, v]) => [k, [...(v as Set<string>)]])) : String(value);
      const out = running.map((p) => `[${p.pid}] ${p.lines.slice(-5).join("\n")}`).join("\n");
      throw new Error(`${what}: not within ${timeoutMs} ms (last: ${last.slice(0, 500)})\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

const metricsOf = async (port: number) => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
const ALL_PARTITIONS = 4 * app.streams.length; // 4 per topic (test/integration.ts)

describe("two projectors in one group", () => {
  it("share the partitions; when one is SIGKILLed under load the other takes over, nothing lost or applied twice", async () => {
    const [portA, portB] = await freePorts(2);
    const a = spawnProjector(t, path.join(logDir, "a.log"), { PROJECTOR_METRICS_PORT: String(portA) });
    const b = spawnProjector(t, path.join(logDir, "b.log"), { PROJECTOR_METRICS_PORT: String(portB) });
    running.push(a, b);
    await Promise.all([a.started(), b.started()]);

    // Both hold a share, together all of them.
    const shared = await until(
      "partitions shared by both instances",
      holdings,
      (m) => m.size === 2 && [...m.values()].every((s) => s.size > 0) && new Set([...m.values()].flatMap((s) => [...s])).size === ALL_PARTITIONS,
      45_000,
    );
    const heldByA = shared.get(a.pid)!;

    // Events in the real format, as another service (or many commands) would publish them.
    const producer = volumeProducer(t);
    await producer.connect();
    const gen = new SyntheticEvents(rng(20261127), 120);
    let sentSoFar = 0;
    let sentAtKill = 0;
    const streamed = pump(producer, 6_000, () => asMessage(t, gen.next()), {
      ratePerSec: 1_000,
      chunk: 100,
      onProgress: (n) => (sentSoFar = n),
    });
    try {
      // A is really working when it dies: its metrics show projected events.
      await until("instance A projecting", () => metricsOf(portA!), (text) => /projector_events_projected_total\{[^}]*\} [1-9]/.test(text), 30_000);
      sentAtKill = sentSoFar;
      await a.kill("SIGKILL");

      // B takes over A's partitions once A's session expires.
      await until("instance B holding every partition", holdings, (m) => m.get(b.pid)?.size === ALL_PARTITIONS, 45_000);
    } finally {
      await streamed.finally(() => producer.disconnect());
    }
    const sent = await streamed;
    expect(sentAtKill).toBeLessThan(sent); // killed while events were still streaming in
    await waitUntilCaughtUp(t, 60_000);

    const metrics = await metricsOf(portB!);
    expect(metrics).toContain(`projector_assigned_partitions{topic="${t.topics.users}"} 4`);
    expect(metrics).toMatch(/projector_batch_duration_seconds_count\{topic="[^"]+"\} [1-9]/);
    const h = await health();
    expect(h.topics.every((x) => x.lag === 0n)).toBe(true);

    const stopped = await b.kill("SIGTERM");
    expect(stopped.code).toBe(0);

    // Nothing lost: the read model is the fold of the whole log.
    const events = await readEvents(t);
    expect(events).toHaveLength(sent);
    await expectModelEqualsLog(t, 0);
    // Nothing twice: one timeline row per event of the log, one per (aggregate, sequence).
    const [timeline] = await t.db.$queryRaw<{ rows: number; ids: number; positions: number }[]>`
      SELECT count(*)::int AS rows, count(DISTINCT event_id)::int AS ids, count(DISTINCT (aggregate_id, sequence))::int AS positions
      FROM (SELECT event_id, user_id AS aggregate_id, sequence FROM user_events
            UNION ALL SELECT event_id, role_id, sequence FROM role_events) e`;
    expect(timeline).toEqual({ rows: sent, ids: sent, positions: sent });
    expect(await t.db.deadLetter.count()).toBe(0);
    expect(heldByA.size).toBeGreaterThan(0); // the takeover moved real partitions
  });
});
