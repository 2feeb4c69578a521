import { describe, expect, it } from "vitest";
import { copyLine, copyValue } from "./copy-text";

describe("COPY text format", () => {
  it("escapes what the text format treats specially, and nothing else", () => {
    expect(copyValue("plain, \"quoted\" & ünïcode")).toBe('plain, "quoted" & ünïcode');
    expect(copyValue("a\\b\tc\nd\re")).toBe("a\\\\b\\tc\\nd\\re");
    expect(copyValue("\\N")).toBe("\\\\N");
  });

  it("writes null, numbers, bigints and booleans as PostgreSQL reads them", () => {
    expect(copyValue(null)).toBe("\\N");
    expect(copyValue(undefined)).toBe("\\N");
    expect([copyValue(42), copyValue(9007199254740993n), copyValue(true), copyValue(false)]).toEqual(["42", "9007199254740993", "t", "f"]);
  });

  it("writes a string array as an array literal with every element quoted, and an object as JSON", () => {
    expect(copyValue([])).toBe("{}");
    expect(copyValue(["users:write", 'say "hi"', "back\\slash", "NULL"])).toBe('{"users:write","say \\\\"hi\\\\"","back\\\\\\\\slash","NULL"}');
    expect(copyValue({ name: "Ada\nLovelace", tab: "\t" })).toBe('{"name":"Ada\\\\nLovelace","tab":"\\\\t"}');
  });

  it("joins a row with tabs and ends it with a newline", () => {
    expect(copyLine(["a", null, 1, { x: 1 }])).toBe('a\t\\N\t1\t{"x":1}\n');
  });
});
