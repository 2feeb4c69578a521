import { describe, expect, it } from "vitest";
import { ago, fixtureNow, partitionError } from "./health-fixtures";
import {
  isNotifierStalled,
  isStalled,
  mayBeStalled,
  publicError,
  readiness,
  stallReason,
  stalledForMs,
  type StalledPartition,
} from "./stall";

const now = fixtureNow;
const STALL = 30_000;

const error = partitionError;

describe("the projector's stall rule", () => {
  // `writtenSince`: the first offset written at or after now − 30 s.
  it("is stalled: lag, no move for 30 s, and a message older than 30 s waits", () => {
    const facts = { lag: 5n, from: 120n, movedAt: ago(45) };
    expect(isStalled(facts, 122n, now, STALL)).toBe(true);
  });

  it("is not stalled without lag, whatever the ages", () => {
    expect(isStalled({ lag: 0n, from: 120n, movedAt: ago(3600) }, 125n, now, STALL)).toBe(false);
    expect(mayBeStalled({ lag: 0n, from: 120n, movedAt: null }, now, STALL)).toBe(false);
  });

  it("is not stalled while the position moved within the stall time (a busy partition working through a backlog)", () => {
    const facts = { lag: 50_000n, from: 120n, movedAt: ago(2) };
    expect(mayBeStalled(facts, now, STALL)).toBe(false);
    expect(isStalled(facts, 10_000n, now, STALL)).toBe(false);
  });

  it("gives no false alarm on a partition idle for an hour that just received a message", () => {
    // Position 120 unchanged for an hour; offset 120 was written 5 s ago, so every waiting message is recent.
    const facts = { lag: 1n, from: 120n, movedAt: ago(3600) };
    expect(mayBeStalled(facts, now, STALL)).toBe(true); // worth asking Kafka…
    expect(isStalled(facts, 120n, now, STALL)).toBe(false); // …and Kafka says nothing old waits
    // The same message, 31 s later and still not taken: now it is stalled.
    expect(isStalled(facts, 121n, new Date(now.getTime() + 31_000), STALL)).toBe(true);
  });

  it("judges a partition never projected (no position row) by the age of what waits", () => {
    expect(isStalled({ lag: 10n, from: 0n, movedAt: null }, 4n, now, STALL)).toBe(true);
    expect(isStalled({ lag: 10n, from: 0n, movedAt: null }, 0n, now, STALL)).toBe(false);
  });

  it("calls nothing stalled when Kafka could not be asked (the page says Kafka is down instead)", () => {
    expect(isStalled({ lag: 5n, from: 120n, movedAt: ago(45) }, undefined, now, STALL)).toBe(false);
  });

  it("follows the configured stall time", () => {
    const facts = { lag: 5n, from: 120n, movedAt: ago(45) };
    expect(mayBeStalled(facts, now, 60_000)).toBe(false);
    expect(mayBeStalled(facts, now, 10_000)).toBe(true);
  });
});

describe("a notifier's stall rule (no time of the last move)", () => {
  const base = { lag: 3n, from: 10n };
  it("is stalled when an old message waits and the partition is failing", () => {
    expect(isNotifierStalled({ ...base, failing: true, held: true }, 12n)).toBe(true);
  });
  it("is stalled when an old message waits and no live instance holds the partition", () => {
    expect(isNotifierStalled({ ...base, failing: false, held: false }, 12n)).toBe(true);
  });
  it("is not stalled while a live instance works through a backlog without failing", () => {
    expect(isNotifierStalled({ lag: 100_000n, from: 0n, failing: false, held: true }, 100_000n)).toBe(false);
  });
  it("is not stalled when only recent messages wait, without lag, or without Kafka's answer", () => {
    expect(isNotifierStalled({ ...base, failing: true, held: false }, 10n)).toBe(false);
    expect(isNotifierStalled({ lag: 0n, from: 10n, failing: true, held: false }, 12n)).toBe(false);
    expect(isNotifierStalled({ ...base, failing: true, held: false }, undefined)).toBe(false);
  });
});

describe("stalledForMs", () => {
  it("counts from the later of the last move and the first failure", () => {
    expect(stalledForMs(ago(3600), error({ firstFailedAt: ago(45) }), now, STALL)).toBe(45_000);
    expect(stalledForMs(ago(50), null, now, STALL)).toBe(50_000);
    expect(stalledForMs(null, error({ firstFailedAt: ago(90) }), now, STALL)).toBe(90_000);
  });
  it("is at least the stall time (the rule proved that much), and unknown without either time", () => {
    expect(stalledForMs(ago(3600), error({ firstFailedAt: ago(5) }), now, STALL)).toBe(30_000);
    expect(stalledForMs(null, null, now, STALL)).toBeNull();
  });
});

const stalled = (over: Partial<StalledPartition> = {}): StalledPartition => ({
  consumerGroup: "read-model",
  topic: "users",
  partition: 3,
  offset: 120n,
  lag: 5n,
  stalledForMs: 45_000,
  heldBy: "host-a · pid 42",
  error: error(),
  ...over,
});

describe("readiness", () => {
  const ok = { databaseError: null, kafkaError: null, liveProjectors: 1, lag: 0n, maxLag: 1000, stalled: [] };

  it("is ready with a live projector, Kafka answering, nothing stalled and lag within the limit", () => {
    expect(readiness(ok)).toEqual({ status: "ready" });
    expect(readiness({ ...ok, lag: 1000n })).toEqual({ status: "ready" });
  });

  it("names a stalled partition with its offset, how long and the error", () => {
    expect(readiness({ ...ok, lag: 5n, stalled: [stalled()] })).toEqual({
      status: "not ready",
      reasons: ["users/3 stalled at offset 120 for 45 s: connect ECONNREFUSED 127.0.0.1:5432"],
    });
  });

  it("says when a stalled partition is held by no live projector", () => {
    expect(stallReason(stalled({ heldBy: null, error: null, stalledForMs: null }))).toBe(
      "users/3 stalled at offset 120: held by no live projector",
    );
    expect(stallReason(stalled({ error: null }))).toBe("users/3 stalled at offset 120 for 45 s");
  });

  it("fails on lag above READY_MAX_LAG", () => {
    expect(readiness({ ...ok, lag: 12_000n })).toEqual({ status: "not ready", reasons: ["lag 12,000 > READY_MAX_LAG 1,000"] });
  });

  it("fails without a live projector, and says everything that is wrong at once", () => {
    expect(readiness({ ...ok, liveProjectors: 0, lag: 5_000n, stalled: [stalled()] })).toEqual({
      status: "not ready",
      reasons: ["no live projector", "users/3 stalled at offset 120 for 45 s: connect ECONNREFUSED 127.0.0.1:5432", "lag 5,000 > READY_MAX_LAG 1,000"],
    });
  });

  it("fails when Kafka does not answer (the lag is then unknown and not judged)", () => {
    expect(readiness({ ...ok, kafkaError: "Kafka did not answer within 3 s", lag: 99_999n })).toEqual({
      status: "not ready",
      reasons: ["Kafka: Kafka did not answer within 3 s"],
    });
  });

  it("answers only the database's failure when the database is down", () => {
    expect(readiness({ ...ok, databaseError: "database unavailable", liveProjectors: 0 })).toEqual({
      status: "not ready",
      reasons: ["database: database unavailable"],
    });
  });

  it("names five stalled partitions and counts the rest", () => {
    const many = Array.from({ length: 8 }, (_, i) => stalled({ partition: i }));
    const verdict = readiness({ ...ok, stalled: many });
    expect(verdict.status).toBe("not ready");
    if (verdict.status !== "not ready") return;
    expect(verdict.reasons).toHaveLength(6);
    expect(verdict.reasons[5]).toBe("3 more partitions stalled");
  });
});

describe("publicError", () => {
  it("keeps the first line, masks credentials in URLs and bounds the length", () => {
    expect(publicError("\nboom\n    at stack (x.js:1)")).toBe("boom");
    expect(publicError("cannot reach postgresql://console:s3cret@db.internal:5432/app")).toBe(
      "cannot reach postgresql://***@db.internal:5432/app",
    );
    expect(publicError("smtp failed: smtps://mailer:pw@mail:465 said no")).toBe("smtp failed: smtps://***@mail:465 said no");
    const long = publicError("x".repeat(500));
    expect(long).toHaveLength(200);
    expect(long.endsWith("…")).toBe(true);
  });
});
