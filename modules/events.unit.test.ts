/** The modules' events through the one serde (lib/events/codec.ts), as the composition root assembles them. */
import { describe, expect, it } from "vitest";
import type { EventRegistry } from "@/lib/events/upcast";
import { event } from "@/test/fixtures";
import { app, decodeEvent, encodeEvent, streamOf } from "@/modules";

const userId = "00000000-0000-4000-8000-000000000001";
const roleId = "00000000-0000-4000-8000-0000000000aa";
const tokenId = "00000000-0000-4000-8000-0000000000bb";

describe("the modules' events", () => {
  it("round-trip every event type on its own stream's topic", () => {
    const events = [
      event("UserCreated", userId, 1, { email: "a@example.com", name: "A" }),
      event("UserUpdated", userId, 2, { email: "b@example.com" }),
      event("UserDeleted", userId, 3, {}),
      event("UserLoggedIn", userId, 4, { ip: null, userAgent: "x" }),
      event("UserPasswordSet", userId, 4, { reset: true }),
      event("UserSessionsEnded", userId, 4, { reason: "password-reset", count: 2 }),
      event("UserLoginFailed", userId, 4, { reason: "wrong-password", ip: "192.0.2.1", userAgent: null }),
      event("UserLoggedOut", userId, 4, { ip: "192.0.2.1", userAgent: "x" }),
      event("RoleAssignedToUser", userId, 5, { roleId, roleName: "r" }),
      event("RoleUnassignedFromUser", userId, 6, { roleId, roleName: "r", reason: "unassigned" }),
      event("UserErased", userId, 7, { reason: "GDPR request" }),
      event("RoleCreated", roleId, 1, { name: "r", description: "" }),
      event("RoleUpdated", roleId, 2, { name: "s" }),
      event("RoleDeleted", roleId, 3, {}),
      event("ApiTokenCreated", tokenId, 1, { name: "ci", scope: "read" }),
      event("ApiTokenRevoked", tokenId, 2, { name: "ci", scope: "read" }),
    ];
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(Object.keys(app.registry)));
    for (const e of events) {
      const message = encodeEvent(e);
      expect(message.headers).toMatchObject({ type: e.type, schemaVersion: "1" });
      expect(decodeEvent(Buffer.from(message.value), streamOf(e.type), message.key)).toMatchObject({ ok: true, event: e });
    }
    expect(decodeEvent(JSON.stringify(events.find((e) => e.type === "RoleDeleted")), "users")).toMatchObject({ ok: false, reason: expect.stringMatching(/roles topic/) });
  });

  it("every registered type is at a version its upcasters can reach from 1", () => {
    for (const [type, spec] of Object.entries(app.registry)) {
      const steps: EventRegistry[string]["upcasters"] = spec.upcasters;
      for (let v = 1; v < spec.schemaVersion; v++) expect(steps[v], `${type} v${v}`).toBeTypeOf("function");
    }
  });

  it("names the personal fields of each type, and only fields its payload has", () => {
    expect(app.modules.flatMap((m) => Object.entries(m.events).flatMap(([t, s]) => s.personal.map((f) => `${t}.${f}`)))).toEqual([
      "UserCreated.email",
      "UserCreated.name",
      "UserUpdated.email",
      "UserUpdated.name",
      "UserLoggedIn.ip",
      "UserLoggedIn.userAgent",
      "UserLoginFailed.ip",
      "UserLoginFailed.userAgent",
      "UserLoggedOut.ip",
      "UserLoggedOut.userAgent",
    ]);
    for (const m of app.modules) {
      for (const [type, spec] of Object.entries(m.events)) {
        const shape = (spec.payload as unknown as { shape?: Record<string, unknown> }).shape ?? {};
        for (const field of spec.personal) expect(Object.keys(shape), `${type}.${field}`).toContain(field);
      }
    }
  });

  it("lists the read-model tables parents first, projection_offsets last", () => {
    expect(app.readModelTables).toEqual(["users", "roles", "api_token_events", "user_roles", "user_events", "role_membership_intervals", "role_events", "personal_data_in_clear", "projection_offsets"]);
  });
});
