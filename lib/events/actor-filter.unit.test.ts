import { describe, expect, it } from "vitest";
import { actorActivityHref, actorKeyParam, parseActorKey } from "./actor-filter";

const id = "0A1B2C3D-0000-4000-8000-000000000001";

describe("actor filter", () => {
  it("round-trips users by id and services by name", () => {
    expect(parseActorKey(actorKeyParam({ kind: "user", userId: id }))).toEqual({ kind: "user", userId: id.toLowerCase() });
    expect(parseActorKey(actorKeyParam({ kind: "service", name: "auth: v2" }))).toEqual({ kind: "service", name: "auth: v2" });
    expect(actorActivityHref({ kind: "service", name: "auth service" })).toBe("/activity?by=service%3Aauth+service");
  });

  it("names no actor it cannot identify, and refuses malformed values", () => {
    expect(actorActivityHref({ kind: "unknown" })).toBeNull();
    expect(actorKeyParam({ kind: "user", userId: "ada@example.com" })).toBeNull();
    for (const bad of ["", "user:", "user:not-a-uuid", "service:", "root", `service:${"x".repeat(201)}`]) {
      expect(parseActorKey(bad)).toBeNull();
    }
  });
});
