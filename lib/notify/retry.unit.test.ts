import { describe, expect, it } from "vitest";
import { backoffDelay } from "./retry";

const policy = { initialMs: 1_000, maxMs: 60_000, attemptTimeoutMs: 10_000 };

describe("backoffDelay", () => {
  it("doubles from the initial delay up to the cap", () => {
    const top = (attempt: number) => backoffDelay(attempt, policy, () => 1);
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(top)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]);
    expect(top(10_000)).toBe(60_000);
  });

  it("keeps half of each delay fixed and jitters the other half", () => {
    expect(backoffDelay(3, policy, () => 0)).toBe(2_000);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(3_000);
  });
});
