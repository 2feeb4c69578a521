import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { newDataKey } from "@/lib/crypto/aead";
import { createSerde } from "@/lib/events/codec";
import type { EventRegistry } from "@/lib/events/upcast";
import { ERASED, NO_KEYS, revealEnvelope, sealEnvelope, wantedKeys, type KeyRing, type WriteKey } from "./personal-data";

const personId = "00000000-0000-4000-8000-0000000000a1";
const adminId = "00000000-0000-4000-8000-0000000000b2";

// A registry of its own: v2 of PersonJoined renamed `fullName` to `name` (an upcaster), so
// events written before encryption, at v1 and in clear, must still read.
const registry: EventRegistry = {
  PersonJoined: {
    stream: "people",
    schemaVersion: 2,
    payload: z.object({ email: z.email(), name: z.string().min(1), team: z.string() }),
    upcasters: { 1: (p) => { const { fullName, ...rest } = p as { fullName: string }; return { ...rest, name: fullName }; } },
    // Every name a personal field had in any version: they are sealed and found before upcasting.
    personal: ["email", "name", "fullName"],
  },
};
const serde = createSerde(registry);

const joined = (overrides: Record<string, unknown> = {}) => ({
  id: randomUUID(),
  type: "PersonJoined",
  schemaVersion: 2,
  aggregateId: personId,
  sequence: 1,
  occurredAt: "2026-11-30T10:00:00.000Z",
  actor: { kind: "user" as const, userId: adminId, email: "admin@example.com", name: "Admin" },
  correlationId: "c-1",
  causationId: null,
  payload: { email: "ada@example.com", name: "Ada", team: "engines" },
  ...overrides,
});

function keysFor(...subjects: string[]) {
  const keys = new Map<string, WriteKey>(subjects.map((s) => [s, { keyId: randomUUID(), key: newDataKey() }]));
  const ring = (erased: string[] = []): KeyRing => ({
    key: (id) => [...keys.values()].find((k) => k.keyId === id && !erased.some((s) => keys.get(s)?.keyId === id))?.key,
    isErased: (s) => erased.includes(s),
  });
  return { keyOf: (s: string) => keys.get(s)!, ring };
}

describe("personal data in events", () => {
  it("seals each person's fields with their key, and reads them back", () => {
    const { keyOf, ring } = keysFor(personId, adminId);
    const event = joined();
    const message = serde.encode(event as never, keyOf);
    for (const clear of ["ada@example.com", "Ada", "admin@example.com", "Admin"]) expect(message.value).not.toContain(`"${clear}"`);
    expect(message.value).toContain('"team":"engines"');
    const sealed = JSON.parse(message.value) as { personalData: Array<{ subject: string; alg: string; fields: string[] }> };
    expect(sealed.personalData.map((p) => [p.subject, p.alg, p.fields])).toEqual([
      [personId, "AES-256-GCM", ["payload.email", "payload.name"]],
      [adminId, "AES-256-GCM", ["actor.email", "actor.name"]],
    ]);
    const read = serde.decode(message.value, "people", personId, ring());
    expect(read).toEqual({ ok: true, event });
    expect(wantedKeys([{ key: personId, value: message.value }]).keyIds.size).toBe(2);
  });

  it("a missing or destroyed key gives the placeholder; the rest of the event stays readable", () => {
    const { keyOf, ring } = keysFor(personId, adminId);
    const message = serde.encode(joined() as never, keyOf);
    const read = serde.decode(message.value, "people", personId, ring([adminId]));
    expect(read).toMatchObject({ ok: true, event: { payload: { email: "ada@example.com", name: "Ada", team: "engines" }, actor: { email: ERASED, name: ERASED } } });
    const noKeys = serde.decode(message.value, "people", personId, NO_KEYS);
    expect(noKeys).toMatchObject({ ok: true, event: { payload: { email: ERASED, name: ERASED, team: "engines" } } });
  });

  it("refuses a tampered ciphertext, and one moved to another event", () => {
    const { keyOf, ring } = keysFor(personId, adminId);
    const sealed = JSON.parse(serde.encode(joined() as never, keyOf).value) as Record<string, unknown> & { personalData: Array<{ data: string }> };
    const data = Buffer.from(sealed.personalData[0]!.data, "base64url");
    data[20] = data[20]! ^ 1;
    const tampered = { ...sealed, personalData: [{ ...sealed.personalData[0], data: data.toString("base64url") }, sealed.personalData[1]] };
    expect(serde.decode(JSON.stringify(tampered), "people", personId, ring())).toMatchObject({ ok: false, reason: expect.stringMatching(/does not decrypt/) });
    // The same ciphertext under another event's id (the associated data binds it to its event).
    const moved = { ...sealed, id: randomUUID() };
    expect(serde.decode(JSON.stringify(moved), "people", personId, ring())).toMatchObject({ ok: false, reason: expect.stringMatching(/does not decrypt/) });
    // Fields claimed for someone they do not belong to.
    const stolen = { ...sealed, personalData: [{ ...sealed.personalData[1], fields: ["payload.email"] }] };
    expect(revealEnvelope(stolen, ["email", "name"], ring())).toMatchObject({ ok: false });
  });

  it("reads events written before encryption (in clear, at v1) through the upcaster, and counts them as clear", () => {
    const { ring } = keysFor(personId, adminId);
    const v1 = joined({ schemaVersion: 1, payload: { email: "ada@example.com", fullName: "Ada", team: "engines" } });
    const read = serde.decode(JSON.stringify(v1), "people", personId, ring());
    expect(read).toMatchObject({ ok: true, event: { schemaVersion: 2, payload: { email: "ada@example.com", name: "Ada" } } });
    expect(read.ok && read.clearSubjects).toEqual([personId, adminId]);
    // Once the person is erased, their data in clear reads as the placeholder too; the admin's does not.
    const erased = serde.decode(JSON.stringify(v1), "people", personId, ring([personId]));
    expect(erased).toMatchObject({ ok: true, event: { payload: { email: ERASED, name: ERASED, team: "engines" }, actor: { email: "admin@example.com" } } });
  });

  it("seals nothing for an event without personal data, and leaves a service actor alone", () => {
    const { keyOf } = keysFor(personId);
    const envelope = { ...joined(), actor: { kind: "service", name: "hr-import" }, payload: { team: "x" } };
    expect(sealEnvelope(envelope, ["email", "name"], keyOf)).toBe(envelope);
  });
});
