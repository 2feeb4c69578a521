import RequestQueue from "kafkajs/src/network/requestQueue/index.js";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { shippedScheduleCheckPendingRequests } from "./request-queue-fix";

const logger = { debug() {}, info() {}, warn() {}, error() {} };
const queue = () => new RequestQueue({ maxInFlightRequests: null, requestTimeout: 30_000, enforceRequestTimeout: false, clientId: "test", broker: "b:9092", logger });

describe("kafkajs request queue", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("as shipped, loops on a 1 ms timer with nothing pending and nothing throttled (the reason for the fix)", () => {
    const q = queue();
    const checks = vi.spyOn(q, "checkPendingRequests");
    q.scheduleCheckPendingRequests = shippedScheduleCheckPendingRequests;
    q.scheduleCheckPendingRequests();
    vi.advanceTimersByTime(1_000);
    // If this fails, kafkajs no longer loops: remove lib/kafka/request-queue-fix.ts.
    expect(checks.mock.calls.length).toBeGreaterThan(500);
    q.destroy();
  });

  it("patched, arms nothing when nothing is pending and nothing throttled", () => {
    const q = queue();
    const checks = vi.spyOn(q, "checkPendingRequests");
    q.scheduleCheckPendingRequests();
    expect(q.throttleCheckTimeoutId).toBeNull();
    vi.advanceTimersByTime(1_000);
    expect(checks).not.toHaveBeenCalled();
  });

  it("patched, still checks requests that wait: 10 ms later when unthrottled, at the throttle's end when throttled", () => {
    const q = queue();
    const checks = vi.spyOn(q, "checkPendingRequests").mockImplementation(() => {});
    q.pending.push({});
    q.scheduleCheckPendingRequests();
    vi.advanceTimersByTime(9);
    expect(checks).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(checks).toHaveBeenCalledTimes(1);

    q.throttledUntil = Date.now() + 500;
    q.scheduleCheckPendingRequests();
    vi.advanceTimersByTime(499);
    expect(checks).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1);
    expect(checks).toHaveBeenCalledTimes(2);

    // Throttled with nothing pending: the check at the throttle's end is kept, as kafkajs does.
    q.pending.length = 0;
    q.throttledUntil = Date.now() + 200;
    q.scheduleCheckPendingRequests();
    vi.advanceTimersByTime(200);
    expect(checks).toHaveBeenCalledTimes(3);
  });
});
