/** What an operator reads on the health page when something is stuck (rendered to static HTML). */
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import type { Health } from "../read/health";
import { ago, fixtureNow, instanceView, partitionError } from "../read/health-fixtures";
import { HealthView } from "./health-view";
import { RebuildPanel } from "./rebuild-panel";

const now = fixtureNow;
const text = (html: string) => html.replace(/<[^>]+>/g, " ").replace(/&#x27;/g, "'").replace(/\s+/g, " ");
const instance = instanceView;
const error = partitionError();

const health = (over: Partial<Health> = {}): Health => ({
  checkedAt: now,
  group: "read-model",
  stallAfterMs: 30_000,
  topics: [
    {
      topic: "users",
      partitions: [{ partition: 3, endOffset: 125n, position: 120n, lag: 5n, lastEventAt: ago(3600), projectedAt: ago(3600) }],
      endOffset: 125n,
      lag: 5n,
      behind: 1,
      lastEventAt: ago(3600),
    },
  ],
  kafkaError: null,
  instances: [
    instance({}),
    instance({
      instanceId: "b",
      host: "host-b",
      isAlive: false,
      status: "crashed",
      lastError: "KafkaJSNumberOfRetriesExceeded: Connection error",
      lastErrorAt: ago(20),
      restarts: 3,
      assignment: {},
    }),
  ],
  unheld: 0,
  stalled: [
    { consumerGroup: "read-model", topic: "users", partition: 3, offset: 120n, lag: 5n, stalledForMs: 45_000, heldBy: "host-a · pid 42", error },
  ],
  failing: [],
  notifiers: [
    {
      group: "notifier-email",
      instances: [],
      lag: 3n,
      stalled: [{ consumerGroup: "notifier-email", topic: "roles", partition: 1, offset: 7n, lag: 3n, stalledForMs: null, heldBy: null, error: null }],
      failing: [],
    },
  ],
  rebuildErrors: [],
  throughput: { minutes: Array.from({ length: 60 }, (_, i) => new Date(now.getTime() - (59 - i) * 60_000)), series: [], total: 0 },
  deadLetters: {
    open: 1,
    total: 1,
    dlqPending: 2,
    dlqOldestAt: ago(120),
    dlqOverdue: true,
    dlqLastError: { error: "topic authorization failed", attempts: 4, nextAttemptAt: new Date(now.getTime() + 10_000) },
  },
  personalDataInClear: [{ stream: "users", events: 3 }, { stream: "roles", events: 0 }],
  ...over,
});

describe("HealthView", () => {
  const html = renderToStaticMarkup(createElement(HealthView, { health: health() }));
  const page = text(html);

  it("counts the events whose personal data is in clear in the log", () => {
    expect(page).toContain("Events with personal data in clear");
    expect(page).toMatch(/not encrypted \(users 3\)/);
  });

  it("names a stalled partition, its offset, how long, its holder and the last error, in red", () => {
    expect(html).toContain("Stalled partitions");
    expect(page).toContain("users / partition 3");
    expect(page).toContain("stalled for 45 s");
    expect(page).toContain("host-a · pid 42");
    expect(page).toContain("connect ECONNREFUSED 127.0.0.1:5432");
    expect(page).toContain("at offset 120 · 7 attempts");
    expect(html).toMatch(/<tr[^>]*class="[^"]*bg-red-50[^"]*"[^>]*><th[^>]*>users \/ partition 3</);
  });

  it("names a notifier's partition held by nobody", () => {
    expect(page).toContain("roles / partition 1 notifier-email");
    expect(page).toContain("held by no live consumer");
    expect(page).toContain("1 stalled: roles / partition 1");
    expect(page).toContain("none alive");
  });

  it("shows a crashed instance as crashed with its error and restarts, never alive", () => {
    expect(page).toContain("crashed");
    expect(page).toContain("restarted 3×");
    expect(page).toContain("KafkaJSNumberOfRetriesExceeded: Connection error");
    expect(page).toContain("1 crashed");
  });

  it("says how many dead letters wait for their DLQ copy and the relay's last error", () => {
    expect(page).toContain("2 dead letters waiting for their copy to the DLQ topic");
    expect(page).toContain("topic authorization failed");
    expect(page).toContain("next try in 10 s");
  });

  it("shows no stalled section when nothing is stalled or failing", () => {
    const calm = text(
      renderToStaticMarkup(createElement(HealthView, { health: health({ stalled: [], notifiers: [], failing: [] }) })),
    );
    expect(calm).not.toContain("Stalled partitions");
    expect(calm).not.toContain("stalled for");
  });
});

describe("RebuildPanel", () => {
  it("lists an active rebuild's replay errors, stalled once older than the stall time", () => {
    const rebuild = {
      id: "7",
      status: "running" as const,
      phase: "catching-up",
      requestedBy: "admin@example.com",
      requestedAt: ago(300),
      acceptDifferences: false,
      cancelRequested: false,
      runner: "host-a",
      startedAt: ago(290),
      heartbeatAt: ago(1),
      finishedAt: null,
      message: null,
      done: 10n,
      total: 100n,
      eventsPerSecond: 5,
      stale: false,
      comparison: null,
    };
    const page = text(
      renderToStaticMarkup(
        createElement(RebuildPanel, {
          rebuilds: [rebuild] as never,
          now,
          stallAfterMs: 30_000,
          replayErrors: [
            { ...error, consumerGroup: "read-model.rebuild.7", topic: "roles", partition: 2, firstFailedAt: ago(40) },
            { ...error, consumerGroup: "read-model.rebuild.7", topic: "users", partition: 1, firstFailedAt: ago(5) },
          ],
        }),
      ),
    );
    expect(page).toContain("Replay errors");
    expect(page).toContain("roles / partition 2");
    expect(page).toContain("stalled for 40 s");
    expect(page).toContain("users / partition 1");
    expect(page).toContain("retrying");
  });
});
