/**
 * A rebuild's decoding thread decodes each batch exactly as the fold's thread would: the job
 * carries the batch's bytes and the parts of the key ring `decode` reads (lib/projection/rebuild/
 * decode-threads.ts), here with the app's own serde, as workers/decode-thread.ts runs it.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { KeyRing, WriteKey } from "@/lib/privacy/personal-data";
import { wantedKeys } from "@/lib/privacy/personal-data";
import { decodeJobOf, runDecodeJob } from "@/lib/projection/rebuild/decode-threads";
import { serde } from "@/modules";
import { event } from "@/test/fixtures";

const person = () => ({ id: randomUUID(), key: { keyId: randomUUID(), key: randomBytes(32) } satisfies WriteKey });

describe("decoding on another thread", () => {
  const sealed = person(); // their key is in the ring
  const admin = person(); // acts on another person; their key is in the ring
  const erased = person(); // erased: no key, and their data in clear reads [erased]
  const unknown = person(); // sealed with a key the ring does not hold
  const keyOf = (subject: string) => [sealed, admin, erased, unknown].find((p) => p.id === subject)!.key;
  const created = (p: { id: string }, email: string) => event("UserCreated", p.id, 1, { email, name: `Name of ${email}` });
  const byAdmin = { ...created(sealed, "second@example.com"), sequence: 2, type: "UserUpdated" as const, payload: { name: "Renamed" } };
  const actor = { kind: "user" as const, userId: admin.id, email: "admin@example.com", name: "Admin" };
  const encoded = [
    serde.encode(created(sealed, "sealed@example.com"), keyOf),
    serde.encode({ ...byAdmin, actor }, keyOf),
    serde.encode(created(erased, "in-clear@example.com")), // another service's event, in clear
    serde.encode(created(unknown, "unknown@example.com"), keyOf),
  ];
  const messages = [
    ...encoded.map((m) => ({ key: Buffer.from(m.key), value: Buffer.from(m.value) })),
    { key: Buffer.from(randomUUID()), value: null },
    { key: null, value: Buffer.from("{not json") },
    { key: null, value: Buffer.alloc(0) },
  ];
  const keys = new Map<string, Buffer>([sealed, admin].map((p) => [p.key.keyId, p.key.key]));
  const ring: KeyRing = {
    key: (id) => keys.get(id.toLowerCase()),
    isErased: (s) => s.toLowerCase() === erased.id,
    erased: () => [erased.id],
  };
  const direct = messages.map((m) => serde.decode(m.value, "users", m.key?.toString("utf8") ?? null, ring));

  it("gives each message the result the fold's thread would have, sealed, in clear, erased, unknown key or unreadable", () => {
    const job = decodeJobOf("users", messages, wantedKeys(messages), ring);
    expect(runDecodeJob(serde, structuredClone(job))).toEqual(direct);
    // What the results hold, so that the comparison is not of two failures.
    expect(direct.map((r) => (r.ok ? (r.event.payload as { email?: string; name?: string }).email ?? (r.event.payload as { name?: string }).name : "unreadable"))).toEqual([
      "sealed@example.com",
      "Renamed",
      "[erased]",
      "[erased]",
      "unreadable",
      "unreadable",
      "unreadable",
    ]);
    expect(direct[1]!.ok && direct[1]!.event.actor).toMatchObject({ email: "admin@example.com", name: "Admin" });
  });

  it("asks a ring that cannot list its erased people about each person of the batch instead", () => {
    const { erased: _listed, ...unlisted } = ring;
    const job = decodeJobOf("users", messages, wantedKeys(messages), unlisted);
    expect(job.erased).toEqual([erased.id]);
    expect(runDecodeJob(serde, job)).toEqual(direct);
  });
});
