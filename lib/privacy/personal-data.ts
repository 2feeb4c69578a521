/**
 * Crypto-shredding of personal data in events: the pure half (no I/O).
 *
 * Before an event leaves the command side, the personal fields of each person
 * it carries are taken out of the envelope and sealed, together, with that
 * person's data key (AES-256-GCM): the payload's personal fields (declared per
 * event type by its module) belong to the aggregate the event is about; the
 * actor's `email` and `name` belong to the actor, when the actor is a user.
 * The envelope keeps, per person, which key and algorithm sealed which fields:
 *
 *   "personalData": [{ "subject": "<person id>", "keyId": "<uuid>", "alg": "AES-256-GCM",
 *                      "fields": ["payload.email", "payload.name"], "data": "<iv|ciphertext|tag, base64url>" }]
 *
 * The associated data binds each ciphertext to its event (id, type, aggregate,
 * sequence) and to its person, key and fields, so it cannot be moved to another
 * event or person. Reading reveals the fields again, or puts ERASED in their
 * place once the key is destroyed (the person was erased) or unknown. Personal
 * data in clear (events written before encryption, or by services that do not
 * encrypt) is read as it is, and counted; once its person is erased it too
 * reads as ERASED.
 */
import { z } from "zod";
import { AEAD_ALGORITHM, DecryptionError, open, seal } from "@/lib/crypto/aead";

/** What every view shows in place of an erased person's data. */
export const ERASED = "[erased]";
export const ACTOR_PERSONAL_FIELDS = ["email", "name"] as const;

export interface WriteKey {
  readonly keyId: string;
  readonly key: Buffer;
}

/** The keys a reader holds for one batch of messages. */
export interface KeyRing {
  /** The data key `keyId`, or undefined when it is destroyed (the person was erased) or unknown. */
  key(keyId: string): Buffer | undefined;
  /** Whether this person was erased (their personal data in clear then reads as ERASED too). */
  isErased(subject: string): boolean;
  /** Every person the ring knows to be erased (to hand the ring to another thread whole). */
  erased?(): Iterable<string>;
}

/** A ring with no keys and no erasures: sealed fields read as ERASED, clear ones as they are. */
export const NO_KEYS: KeyRing = { key: () => undefined, isErased: () => false };

const sealedPartSchema = z.object({
  subject: z.uuid(),
  keyId: z.string().min(1).max(100),
  alg: z.literal(AEAD_ALGORITHM, { error: `unsupported algorithm (this code reads ${AEAD_ALGORITHM})` }),
  fields: z.array(z.string().regex(/^(payload|actor)\.[A-Za-z0-9_]+$/)).min(1),
  data: z.string().min(1),
});
const personalDataSchema = z.array(sealedPartSchema).max(10);
export type SealedPart = z.infer<typeof sealedPartSchema>;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

interface PersonalPath {
  path: string;
  subject: string;
}

/** The personal fields present in an envelope, and whose they are. */
function personalPaths(envelope: Json, payloadFields: readonly string[]): PersonalPath[] {
  const paths: PersonalPath[] = [];
  const payload = envelope.payload;
  if (typeof envelope.aggregateId === "string" && isObject(payload)) {
    for (const field of payloadFields) {
      if (payload[field] !== undefined && payload[field] !== null) paths.push({ path: `payload.${field}`, subject: envelope.aggregateId });
    }
  }
  const actor = envelope.actor;
  if (isObject(actor) && actor.kind === "user" && typeof actor.userId === "string") {
    for (const field of ACTOR_PERSONAL_FIELDS) {
      if (actor[field] !== undefined && actor[field] !== null) paths.push({ path: `actor.${field}`, subject: actor.userId });
    }
  }
  return paths;
}

/** The people whose personal data an event carries (the keys its append needs). */
export function personalSubjects(envelope: object, payloadFields: readonly string[]): string[] {
  return [...new Set(personalPaths(envelope as Json, payloadFields).map((p) => p.subject))];
}

function associatedData(envelope: Json, part: Pick<SealedPart, "subject" | "keyId" | "fields">): string {
  return [
    "personal-data/v1",
    envelope.id,
    envelope.type,
    envelope.aggregateId,
    envelope.sequence,
    part.subject,
    part.keyId,
    part.fields.join(","),
  ].join("|");
}

/** A copy of the envelope with its payload and actor copied too (the only parts this file changes). */
function shallowCopy(envelope: Json): Json {
  const copy = { ...envelope };
  if (isObject(copy.payload)) copy.payload = { ...copy.payload };
  if (isObject(copy.actor)) copy.actor = { ...copy.actor };
  return copy;
}

/**
 * "payload.email" as ["payload", "email"], split once per distinct path: a projector reveals
 * every event of a backlog, and splitting each field's path on every read was a fifth of the
 * time it took to reveal one (CPU profile of revealEnvelope, 2026-12-01). The paths are the
 * registry's personal fields and the actor's: a handful, so the map stays small.
 */
const pathParts = new Map<string, readonly [string, string]>();
function partsOf(path: string): readonly [string, string] {
  let parts = pathParts.get(path);
  if (!parts) {
    const dot = path.indexOf(".");
    parts = [path.slice(0, dot), path.slice(dot + 1)];
    // Bounded, whatever a message claims (sealed parts name their fields; they are checked first).
    if (pathParts.size < 1_000) pathParts.set(path, parts);
  }
  return parts;
}

function getPath(envelope: Json, path: string): unknown {
  const [part, field] = partsOf(path);
  const holder = envelope[part];
  return isObject(holder) ? holder[field] : undefined;
}
function setPath(envelope: Json, path: string, value: unknown) {
  const [part, field] = partsOf(path);
  const holder = envelope[part];
  if (!isObject(holder)) return;
  if (value === undefined) delete holder[field];
  else holder[field] = value;
}

/**
 * The envelope to write: every person's personal fields sealed with their key
 * and removed from the payload and the actor. `keyOf` gives each person's key
 * (lib/privacy/key-store.ts creates it on first use).
 */
export function sealEnvelope(envelope: Json, payloadFields: readonly string[], keyOf: (subject: string) => WriteKey): Json {
  const paths = personalPaths(envelope, payloadFields);
  if (paths.length === 0) return envelope;
  const copy = shallowCopy(envelope);
  const bySubject = new Map<string, string[]>();
  for (const { path, subject } of paths) bySubject.set(subject, [...(bySubject.get(subject) ?? []), path]);
  const parts: SealedPart[] = [];
  for (const [subject, fields] of bySubject) {
    const { keyId, key } = keyOf(subject);
    const values = Object.fromEntries(fields.map((f) => [f, getPath(envelope, f)]));
    const data = seal(key, JSON.stringify(values), associatedData(envelope, { subject, keyId, fields }));
    parts.push({ subject, keyId, alg: AEAD_ALGORITHM, fields, data });
    for (const f of fields) setPath(copy, f, undefined);
  }
  copy.personalData = parts;
  return copy;
}

export type Revealed =
  | {
      ok: true;
      envelope: Json;
      /** People whose personal data this event carries in clear (not sealed). */
      clearSubjects: string[];
    }
  | { ok: false; reason: string };

/**
 * The envelope as the application reads it: sealed fields decrypted with the
 * ring's keys, or ERASED where the key is gone; clear fields of an erased
 * person ERASED too. A ciphertext that fails authentication (tampered, moved
 * from another event) is refused, not shown as erased.
 */
export function revealEnvelope(envelope: Json, payloadFields: readonly string[], ring: KeyRing): Revealed {
  const clearPaths = personalPaths(envelope, payloadFields);
  const clearSubjects = [...new Set(clearPaths.map((p) => p.subject))];
  if (envelope.personalData === undefined) {
    if (!clearPaths.some((p) => ring.isErased(p.subject))) return { ok: true, envelope, clearSubjects };
    const copy = shallowCopy(envelope);
    for (const p of clearPaths) if (ring.isErased(p.subject)) setPath(copy, p.path, ERASED);
    return { ok: true, envelope: copy, clearSubjects };
  }
  const parsed = personalDataSchema.safeParse(envelope.personalData);
  if (!parsed.success) {
    return { ok: false, reason: `invalid personalData: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}` };
  }
  const copy = shallowCopy(envelope);
  delete copy.personalData;
  const actorId = isObject(envelope.actor) && envelope.actor.kind === "user" ? envelope.actor.userId : undefined;
  for (const part of parsed.data) {
    for (const field of part.fields) {
      const owner = field.startsWith("actor.") ? actorId : envelope.aggregateId;
      if (owner !== part.subject) return { ok: false, reason: `personalData: ${field} is not ${part.subject}'s (it belongs to ${String(owner)})` };
      if (getPath(envelope, field) !== undefined) return { ok: false, reason: `personalData: ${field} is both sealed and in clear` };
    }
    const key = ring.key(part.keyId);
    if (!key) {
      for (const field of part.fields) setPath(copy, field, ERASED);
      continue;
    }
    let values: unknown;
    try {
      values = JSON.parse(open(key, part.data, associatedData(envelope, part)).toString("utf8"));
    } catch (error) {
      const why = error instanceof DecryptionError ? error.message : `not JSON: ${(error as Error).message}`;
      return { ok: false, reason: `personal data of ${part.subject} (key ${part.keyId}) does not decrypt: ${why}` };
    }
    if (!isObject(values)) return { ok: false, reason: `personal data of ${part.subject} is not an object` };
    for (const field of part.fields) setPath(copy, field, ring.isErased(part.subject) ? ERASED : values[field]);
  }
  for (const p of clearPaths) if (ring.isErased(p.subject)) setPath(copy, p.path, ERASED);
  return { ok: true, envelope: copy, clearSubjects };
}

/**
 * An envelope already revealed (e.g. a timeline row) with one person's data
 * replaced by ERASED: what a read of the log gives once they are erased.
 */
export function eraseSubject(envelope: Json, payloadFields: readonly string[], subject: string): Json {
  const paths = personalPaths(envelope, payloadFields).filter((p) => p.subject === subject);
  if (paths.length === 0) return envelope;
  const copy = shallowCopy(envelope);
  for (const p of paths) setPath(copy, p.path, ERASED);
  return copy;
}

const KEY_ID = /"keyId"\s*:\s*"([^"\\]{1,100})"/g;
const USER_ID = /"userId"\s*:\s*"([0-9a-fA-F-]{36})"/g;

/**
 * The key ids and people a raw message may need, found without parsing it
 * (the ring for a batch is loaded in one query before decoding). A match
 * inside a string value is impossible (quotes there are escaped); an extra id
 * costs nothing.
 */
/** The key ids and people a list of raw messages may need (the argument of `PersonalDataKeys.ring`). */
export function wantedKeys(messages: Iterable<{ key: Buffer | string | null; value: Buffer | string | null }>) {
  const wanted = { keyIds: new Set<string>(), subjects: new Set<string>() };
  for (const m of messages) {
    if (m.value) scanForKeys(m.value.toString("utf8"), m.key === null ? null : m.key.toString("utf8"), wanted);
  }
  return wanted;
}

export function scanForKeys(value: string, key: string | null, into: { keyIds: Set<string>; subjects: Set<string> }) {
  if (key) into.subjects.add(key);
  for (const m of value.matchAll(KEY_ID)) into.keyIds.add(m[1]!);
  for (const m of value.matchAll(USER_ID)) into.subjects.add(m[1]!.toLowerCase());
}
