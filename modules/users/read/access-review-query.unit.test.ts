import { describe, expect, it } from "vitest";
import { DomainError } from "@/lib/errors";
import { accessReviewQuerySchema, parseAccessReviewQuery } from "./role-membership";

const roleId = "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f";
const issues = (input: Record<string, unknown>) => {
  const parsed = accessReviewQuerySchema.safeParse(input);
  return parsed.success ? [] : parsed.error.issues.map((i) => [i.path.join("."), i.message]);
};

describe("the access review's query", () => {
  it("names each missing or malformed date, instead of failing on the comparison of the two (the page's server error)", () => {
    expect(issues({ roleId, from: "", to: "" })).toEqual([
      ["from", "From is required."],
      ["to", "To is required."],
    ]);
    expect(issues({ roleId, from: "2026-01-31T09:00", to: "yesterday" })).toEqual([
      ["to", "To must be a date and time such as 2026-01-31T09:00 (UTC) or 2026-01-31T09:00:00+02:00."],
    ]);
    try {
      parseAccessReviewQuery({ roleId, from: "2026-01-31T09:00" });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(DomainError);
      expect((error as DomainError).fieldErrors).toEqual({ to: ["To is required."] });
    }
  });

  it("still refuses a period that ends before it begins, and reads a datetime-local value as UTC", () => {
    expect(issues({ roleId, from: "2026-02-01T00:00", to: "2026-01-31T23:59" })).toEqual([["to", "To must not be before From."]]);
    expect(parseAccessReviewQuery({ roleId, from: "2026-01-31T09:00", to: "2026-01-31T12:00:00+02:00" })).toEqual({
      roleId,
      from: new Date(Date.UTC(2026, 0, 31, 9)),
      to: new Date(Date.UTC(2026, 0, 31, 10)),
    });
  });
});
