import { describe, expect, it } from "vitest";
import { positionGap } from "./positions";

describe("positionGap", () => {
  const start = (offset: string) => {
    const asked: string[] = [];
    return { asked, logStart: async () => (asked.push(offset), offset) };
  };

  it("lets a batch through that starts at or before the stored position", async () => {
    expect(await positionGap(10n, "10", start("0").logStart)).toBeNull();
    expect(await positionGap(10n, "7", start("0").logStart)).toBeNull();
  });

  it("sends a batch fetched past the stored position back to it, without asking the log's start", async () => {
    const s = start("0");
    expect(await positionGap(10n, "12", s.logStart)).toEqual({ gapFrom: "10", storedPosition: "10" });
    expect(s.asked).toEqual([]);
  });

  it("with no position stored, sends a batch fetched past the log's start back to it", async () => {
    expect(await positionGap(undefined, "40", start("5").logStart)).toEqual({ gapFrom: "5", storedPosition: null, logStart: "5" });
    expect(await positionGap(undefined, "5", start("5").logStart)).toBeNull(); // the start itself (retention moved it)
    const s = start("5");
    expect(await positionGap(undefined, "0", s.logStart)).toBeNull();
    expect(s.asked).toEqual([]); // offset 0 is every log's start: nothing to ask
  });

  it("checks only the stored position without a way to tell the log's start (a rebuild's replay)", async () => {
    expect(await positionGap(undefined, "40")).toBeNull();
    expect(await positionGap(3n, "40")).toEqual({ gapFrom: "3", storedPosition: "3" });
  });

  it("lets through a batch that does not say where it was fetched from", async () => {
    expect(await positionGap(3n, undefined, start("0").logStart)).toBeNull();
  });
});
