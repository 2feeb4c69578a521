import { describe, expect, it } from "vitest";
import { projectorLingerMs } from "./config";

describe("PROJECTOR_LINGER_MS", () => {
  it("is 20 ms unless set, and 0 turns the linger off", () => {
    expect(projectorLingerMs({})).toBe(20);
    expect(projectorLingerMs({ PROJECTOR_LINGER_MS: "0" })).toBe(0);
    expect(projectorLingerMs({ PROJECTOR_LINGER_MS: "5" })).toBe(5);
  });
  it("refuses what is not a whole number of milliseconds from 0 to 1000, naming the variable", () => {
    expect(() => projectorLingerMs({ PROJECTOR_LINGER_MS: "abc" })).toThrow(/PROJECTOR_LINGER_MS: .*number/);
    expect(() => projectorLingerMs({ PROJECTOR_LINGER_MS: "1001" })).toThrow("PROJECTOR_LINGER_MS: 0 to 1000");
    expect(() => projectorLingerMs({ PROJECTOR_LINGER_MS: "-1" })).toThrow("PROJECTOR_LINGER_MS: 0 to 1000");
    expect(() => projectorLingerMs({ PROJECTOR_LINGER_MS: "2.5" })).toThrow(/PROJECTOR_LINGER_MS/);
  });
});
