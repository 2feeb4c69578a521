import { describe, expect, it } from "vitest";
import { z } from "zod";
import { event } from "@/test/fixtures";
import { decodeEvent, encodeEvent } from "./codec";
import { eventRegistry } from "./registry";
import { upcast, UnreadableEventError, type EventRegistry } from "./upcast";

const userId = "00000000-0000-4000-8000-000000000001";

describe("envelope codec", () => {
  it("round-trips every event type with type and schemaVersion in headers, key = aggregate id", () => {
    const roleId = "00000000-0000-4000-8000-0000000000aa";
    const events = [
      event("UserCreated", userId, 1, { email: "a@example.com", name: "A" }),
      event("UserUpdated", userId, 2, { email: "b@example.com" }),
      event("UserDeleted", userId, 3, {}),
      event("UserLoggedIn", userId, 4, { ip: null, userAgent: "x" }),
      event("RoleAssignedToUser", userId, 5, { roleId, roleName: "r" }),
      event("RoleUnassignedFromUser", userId, 6, { roleId, roleName: "r", reason: "unassigned" }),
      event("RoleCreated", roleId, 1, { name: "r", description: "" }),
      event("RoleUpdated", roleId, 2, { name: "s" }),
      event("RoleDeleted", roleId, 3, {}),
    ];
    for (const e of events) {
      const message = encodeEvent(e);
      expect(message.key).toBe(e.aggregateId);
      expect(message.headers).toMatchObject({ type: e.type, schemaVersion: "1" });
      const stream = e.type.startsWith("Role") && !e.type.endsWith("User") ? "roles" : "users";
      expect(decodeEvent(Buffer.from(message.value), stream, message.key)).toEqual({ ok: true, event: e });
    }
  });

  it("refuses to encode an invalid event (a bug must not reach the log)", () => {
    const bad = event("UserCreated", userId, 1, { email: "not-an-email", name: "A" });
    expect(() => encodeEvent(bad)).toThrow();
  });

  it.each([
    ["not JSON", "{oops", /not JSON/],
    ["an empty message", "", /empty/],
    ["a missing envelope field", JSON.stringify({ type: "UserCreated" }), /invalid envelope/],
    ["an unknown type", JSON.stringify({ ...event("UserDeleted", userId, 1, {}), type: "UserTeleported" }), /unknown event type/],
    ["a bad payload", JSON.stringify(event("UserCreated", userId, 1, { email: "x", name: "" })), /invalid UserCreated payload/],
    ["a newer schema version", JSON.stringify({ ...event("UserDeleted", userId, 1, {}), schemaVersion: 9 }), /newer/],
  ])("explains why it cannot read %s", (_, value, reason) => {
    const result = decodeEvent(value, "users");
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(reason);
  });

  it("refuses text PostgreSQL cannot store: U+0000 and half a surrogate pair, escaped in valid JSON", () => {
    const named = (name: string) => JSON.stringify(event("UserCreated", userId, 1, { email: "a@example.com", name }));
    expect(decodeEvent(named("Nul \u0000 byte"), "users")).toMatchObject({ ok: false, reason: expect.stringMatching(/U\+0000/) });
    for (const half of ["\ud800", "\udfff", "x\udbff"]) {
      const value = Buffer.from(named(`Half ${half} pair`)); // JSON.stringify writes it as a \udXXX escape
      expect(value.toString()).toMatch(/\\ud[89a-f]/);
      expect(decodeEvent(value, "users")).toMatchObject({ ok: false, reason: expect.stringMatching(/surrogate/) });
    }
    // A whole pair, escaped or not, is an ordinary character.
    expect(decodeEvent(named("Smile \ud83d\ude00"), "users")).toMatchObject({ ok: true });
    expect(decodeEvent(named("Smile 😀").replace("😀", "\\ud83d\\ude00"), "users")).toMatchObject({ ok: true });
  });

  it("refuses an event on the wrong topic or under the wrong key", () => {
    const value = JSON.stringify(event("RoleDeleted", userId, 1, {}));
    expect(decodeEvent(value, "users")).toMatchObject({ ok: false, reason: expect.stringMatching(/roles topic/) });
    const created = JSON.stringify(event("UserDeleted", userId, 1, {}));
    expect(decodeEvent(created, "users", "someone-else")).toMatchObject({ ok: false });
  });
});

describe("upcasting", () => {
  // A registry where UserLoggedIn went through two revisions: v1 had `ipAddress`,
  // v2 renamed it to `ip`, v3 added `userAgent`.
  const registry: EventRegistry = {
    ...eventRegistry,
    UserLoggedIn: {
      stream: "users",
      schemaVersion: 3,
      payload: z.object({ ip: z.string().nullable(), userAgent: z.string().nullable() }),
      upcasters: {
        1: (p) => {
          const { ipAddress, ...rest } = p as { ipAddress: string | null };
          return { ...rest, ip: ipAddress };
        },
        2: (p) => ({ userAgent: null, ...(p as object) }),
      },
    },
  };

  it("reads a stream that mixes versions as the current version", () => {
    const base = event("UserLoggedIn", userId, 2, { ip: "1.1.1.1", userAgent: "ua" });
    const stream = [
      { ...base, sequence: 2, schemaVersion: 1, payload: { ipAddress: "10.0.0.1" } },
      { ...base, sequence: 3, schemaVersion: 2, payload: { ip: "10.0.0.2" } },
      { ...base, sequence: 4, schemaVersion: 3, payload: { ip: "10.0.0.3", userAgent: "curl" } },
    ];
    const read = stream.map((e) => decodeEvent(JSON.stringify(e), "users", userId, registry));
    expect(read.map((r) => r.ok && r.event.payload)).toEqual([
      { ip: "10.0.0.1", userAgent: null },
      { ip: "10.0.0.2", userAgent: null },
      { ip: "10.0.0.3", userAgent: "curl" },
    ]);
    expect(read.every((r) => r.ok && r.event.schemaVersion === 3)).toBe(true);
  });

  it("fails clearly when a step is missing", () => {
    const broken: EventRegistry = { ...registry, UserLoggedIn: { ...registry.UserLoggedIn!, upcasters: {} } };
    const old = { ...event("UserLoggedIn", userId, 2, { ip: null, userAgent: null }), schemaVersion: 1 };
    expect(() => upcast(old, broken)).toThrow(UnreadableEventError);
    expect(() => upcast(old, broken)).toThrow(/no upcaster for UserLoggedIn v1 → v2/);
  });

  it("every registered type is at a version its upcasters can reach from 1", () => {
    for (const [type, spec] of Object.entries(eventRegistry)) {
      const steps: EventRegistry[string]["upcasters"] = spec.upcasters;
      for (let v = 1; v < spec.schemaVersion; v++) expect(steps[v], `${type} v${v}`).toBeTypeOf("function");
    }
  });
});
