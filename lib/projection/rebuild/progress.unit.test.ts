import { describe, expect, it } from "vitest";
import { formatDuration, progressFraction, progressLine, textBar } from "./progress";
import { createRateMeter, describeDifferences } from "./rebuild";

describe("rebuild progress", () => {
  it("is a fraction of the log, complete when the log is empty and never above 1", () => {
    expect(progressFraction(0n, 0n)).toBe(1);
    expect(progressFraction(0n, 10n)).toBe(0);
    expect(progressFraction(1n, 3n)).toBeCloseTo(0.3333, 4);
    expect(progressFraction(12n, 10n)).toBe(1);
    expect(progressFraction(999_999_999_999n, 1_000_000_000_000n)).toBeCloseTo(0.9999, 4);
  });

  it("formats time left, and says when it is unknown", () => {
    expect(formatDuration(null)).toBe("—");
    expect(formatDuration(Number.POSITIVE_INFINITY)).toBe("—");
    expect(formatDuration(44.6)).toBe("45 s");
    expect(formatDuration(185)).toBe("3 min 05 s");
    expect(formatDuration(3720)).toBe("1 h 02 min");
  });

  it("draws the bar and the line", () => {
    expect(textBar(0.5, 10)).toBe("[█████·····]");
    expect(textBar(2, 4)).toBe("[████]");
    expect(progressLine({ phase: "catching-up", done: 120_000n, total: 240_000n, eventsPerSecond: 8_200.4, secondsLeft: 14.6 }, 10)).toBe(
      "catching-up [█████·····]  50% 120,000 / 240,000 events · 8,200 events/s · 15 s left",
    );
  });

  it("measures the rate over a sliding window", () => {
    let now = 0;
    const meter = createRateMeter(3, () => now);
    expect(meter.add(0n)).toBe(0);
    now = 1000;
    expect(meter.add(500n)).toBe(500);
    now = 2000;
    expect(meter.add(1500n)).toBe(750);
    now = 3000;
    expect(meter.add(1500n)).toBe(500); // window: 1 s → 3 s, 500 → 1,500
  });

  it("says which tables differ and how", () => {
    const table = (name: "users" | "roles", live: number, rebuilt: number) => ({
      table: name,
      live: { rows: live, sum: "1" },
      rebuilt: { rows: rebuilt, sum: "2" },
      equal: false,
    });
    expect(describeDifferences([table("users", 1204, 1204), table("roles", 3, 4)])).toBe(
      "users differs (live 1,204 rows, rebuilt 1,204 rows: same count, other content); roles differs (live 3 rows, rebuilt 4 rows)",
    );
  });
});
