import { describe, expect, it } from "vitest";
import { formatAge } from "../ui/format";
import { instanceView } from "./health-fixtures";
import { bucketByMinute, formatPartitions, holders, instanceStatus, notifierPosition, topicHealth, type ProjectorInstanceView } from "./health";

const at = (iso: string) => new Date(iso);

describe("topicHealth", () => {
  const ends = [
    { topic: "users", partition: 0, low: 0n, high: 10n },
    { topic: "users", partition: 1, low: 0n, high: 7n },
    { topic: "users", partition: 2, low: 0n, high: 0n },
    { topic: "users", partition: 3, low: 4n, high: 9n },
    { topic: "roles", partition: 0, low: 0n, high: 99n },
  ];
  const positions = [
    { topic: "users", partition: 0, nextOffset: 10n, updatedAt: at("2026-11-27T09:00:05Z"), lastEventAt: at("2026-11-27T09:00:04Z") },
    { topic: "users", partition: 1, nextOffset: 5n, updatedAt: at("2026-11-27T09:00:01Z"), lastEventAt: at("2026-11-27T09:00:00Z") },
    { topic: "roles", partition: 0, nextOffset: 1n, updatedAt: at("2026-11-27T09:00:01Z"), lastEventAt: null },
  ];

  it("computes lag as log end minus stored position, from the log's start when nothing is stored", () => {
    const h = topicHealth("users", ends, positions);
    const byPartition = new Map(h.partitions.map((p) => [p.partition, p]));
    expect(byPartition.get(0)).toMatchObject({ endOffset: 10n, position: 10n, lag: 0n });
    expect(byPartition.get(1)).toMatchObject({ endOffset: 7n, position: 5n, lag: 2n });
    expect(byPartition.get(2)).toMatchObject({ endOffset: 0n, position: null, lag: 0n });
    // Not projected yet, and the log starts at 4 (retention): 5 messages to go, not 9.
    expect(byPartition.get(3)).toMatchObject({ endOffset: 9n, position: null, lag: 5n });
    expect(h).toMatchObject({ topic: "users", endOffset: 26n, lag: 7n, behind: 2, lastEventAt: at("2026-11-27T09:00:04Z") });
  });

  it("lists the partitions most behind first, then the others in order", () => {
    expect(topicHealth("users", ends, positions).partitions.map((p) => p.partition)).toEqual([3, 1, 0, 2]);
  });

  it("never reports a negative lag (a position stored ahead of a just-fetched end)", () => {
    const h = topicHealth("users", [{ topic: "users", partition: 0, low: 0n, high: 3n }], [{ ...positions[0]!, nextOffset: 4n }]);
    expect(h.lag).toBe(0n);
  });
});

describe("bucketByMinute", () => {
  it("puts counts into 60 minute slots by type, biggest type first", () => {
    const start = at("2026-11-27T08:00:00Z");
    const t = bucketByMinute(start, [
      { minute: at("2026-11-27T08:00:00Z"), type: "UserCreated", n: 2 },
      { minute: at("2026-11-27T08:59:00Z"), type: "UserCreated", n: 1 },
      { minute: at("2026-11-27T08:30:00Z"), type: "RoleCreated", n: 5 },
      { minute: at("2026-11-27T09:00:00Z"), type: "RoleCreated", n: 9 }, // outside the hour
    ]);
    expect(t.minutes).toHaveLength(60);
    expect(t.minutes[59]).toEqual(at("2026-11-27T08:59:00Z"));
    expect(t.series.map((s) => [s.type, s.total])).toEqual([
      ["RoleCreated", 5],
      ["UserCreated", 3],
    ]);
    expect(t.series[1]!.counts[0]).toBe(2);
    expect(t.series[1]!.counts[59]).toBe(1);
    expect(t.total).toBe(8);
  });
});

describe("formatPartitions", () => {
  it("folds runs into ranges", () => {
    expect(formatPartitions([7, 0, 1, 2, 3, 9, 10, 11])).toBe("0–3, 7, 9–11");
    expect(formatPartitions([4])).toBe("4");
    expect(formatPartitions([])).toBe("");
  });
});

describe("formatAge", () => {
  const now = at("2026-11-27T10:00:00Z");
  it("reads like a duration", () => {
    expect(formatAge(now, now)).toBe("just now");
    expect(formatAge(at("2026-11-27T09:59:52Z"), now)).toBe("8 s");
    expect(formatAge(at("2026-11-27T09:56:00Z"), now)).toBe("4 min");
    expect(formatAge(at("2026-11-27T07:00:00Z"), now)).toBe("3 h");
    expect(formatAge(at("2026-11-25T10:00:00Z"), now)).toBe("2 d");
    expect(formatAge(at("2026-11-27T10:00:09Z"), now)).toBe("just now"); // clock skew
  });
});

describe("instanceStatus", () => {
  const running = { stoppedAt: null, heartbeatFresh: true, consumerState: "running" };
  it("is alive only when not stopped, heartbeating and its consumer running", () => {
    expect(instanceStatus(running)).toBe("alive");
    expect(instanceStatus({ ...running, heartbeatFresh: false })).toBe("no heartbeat");
    expect(instanceStatus({ ...running, stoppedAt: at("2026-11-27T09:00:00Z") })).toBe("stopped");
  });
  it("never shows a crashed consumer alive, even while its process still heartbeats", () => {
    expect(instanceStatus({ ...running, consumerState: "crashed" })).toBe("crashed");
    expect(instanceStatus({ ...running, consumerState: "crashed", heartbeatFresh: false })).toBe("crashed");
    expect(instanceStatus({ ...running, consumerState: "something new" })).toBe("crashed");
  });
  it("shows a stuck loop as stuck while its process says so, then as silent", () => {
    expect(instanceStatus({ ...running, heartbeatFresh: false, consumerState: "stuck", errorFresh: true })).toBe("stuck");
    expect(instanceStatus({ ...running, heartbeatFresh: false, consumerState: "stuck", errorFresh: false })).toBe("no heartbeat");
  });
});

describe("holders", () => {
  const instance = (over: Partial<ProjectorInstanceView>) => instanceView({ assignment: {}, ...over });
  it("names the live instance holding each partition and ignores the others", () => {
    const held = holders([
      instance({ pid: 1, assignment: { users: [0, 1] } }),
      instance({ pid: 2, isAlive: false, status: "crashed", assignment: { users: [2] } }),
    ]);
    expect(held.get("users/1")).toBe("host-a · pid 1");
    expect(held.has("users/2")).toBe(false);
  });
  it("names a stuck instance as the holder of the partitions it keeps waiting", () => {
    const held = holders([instance({ pid: 3, isAlive: false, status: "stuck", assignment: { users: [4] } })]);
    expect(held.get("users/4")).toBe("host-a · pid 3 (stuck)");
  });
});

describe("notifierPosition", () => {
  const end = { topic: "users", partition: 0, low: 4n, high: 10n };
  it("counts from the committed offset, or from the log's start when nothing is committed", () => {
    expect(notifierPosition(end, new Map([["users/0", 7n]]))).toEqual({ from: 7n, lag: 3n });
    expect(notifierPosition(end, new Map([["users/0", null]]))).toEqual({ from: 4n, lag: 6n });
    expect(notifierPosition(end, undefined)).toEqual({ from: 4n, lag: 6n });
    expect(notifierPosition(end, new Map([["users/0", 12n]]))).toEqual({ from: 12n, lag: 0n });
  });
});
