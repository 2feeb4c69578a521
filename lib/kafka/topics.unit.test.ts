import { describe, expect, it } from "vitest";
import { retryWhile } from "./topics";

/** A clock that only moves when the retry sleeps. */
function virtualTime() {
  let t = 0;
  return { now: () => t, sleep: async (ms: number) => void (t += ms), elapsed: () => t };
}
const unknownTopic = () => Object.assign(new Error("This server does not host this topic-partition"), { type: "UNKNOWN_TOPIC_OR_PARTITION" });
const isUnknown = (e: unknown) => (e as { type?: string }).type === "UNKNOWN_TOPIC_OR_PARTITION";

describe("retryWhile (topic set-up on a slow broker)", () => {
  it("waits out a broker that does not know the new topics for 20 s (ten tries of 500 ms gave it 5 s)", async () => {
    const clock = virtualTime();
    let calls = 0;
    const result = await retryWhile(async () => {
      if (clock.elapsed() < 20_000) { calls++; throw unknownTopic(); }
      return "described";
    }, isUnknown, clock);
    expect(result).toBe("described");
    expect(calls).toBeGreaterThan(10);
    expect(clock.elapsed()).toBeLessThan(22_000);
  });

  it("gives up at the deadline with the broker's own error", async () => {
    const clock = virtualTime();
    await expect(retryWhile(async () => { throw unknownTopic(); }, isUnknown, { ...clock, deadlineMs: 10_000 }))
      .rejects.toThrow(/does not host this topic-partition/);
    expect(clock.elapsed()).toBeLessThanOrEqual(10_000);
    expect(clock.elapsed()).toBeGreaterThan(7_000);
  });

  it("does not retry other errors", async () => {
    const clock = virtualTime();
    let calls = 0;
    await expect(retryWhile(async () => { calls++; throw new Error("retention.ms=604800000"); }, isUnknown, clock)).rejects.toThrow(/retention/);
    expect(calls).toBe(1);
  });
});
