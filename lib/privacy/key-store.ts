/**
 * The key store: one data key per person, in the PostgreSQL table
 * `personal_data_keys`, outside Kafka and outside the read model (never
 * rebuilt, never published). Each key is stored wrapped by the key-encryption
 * key (lib/crypto/key-wrapper.ts); erasing a person deletes their wrapped key
 * and keeps a tombstone (id and time, no key), so every reader knows to show
 * ERASED, even for their data in clear. Losing this table makes all personal
 * data in the log unreadable: back it up with the database (README, Privacy).
 */
import { randomUUID } from "node:crypto";
import type { Db } from "@/lib/db";
import type { Tx } from "@/lib/command/execute";
import { newDataKey } from "@/lib/crypto/aead";
import type { KeyWrapper } from "@/lib/crypto/key-wrapper";
import { DomainError } from "@/lib/errors";
import type { KeyRing, WriteKey } from "./personal-data";

export type Queryable = Pick<Db, "$queryRaw" | "$executeRaw"> | Tx;

/** Binds a wrapped key to its row: a wrapped key copied to another person's row does not unwrap. */
const wrapContext = (subject: string, keyId: string) => `personal-data-key:${subject}:${keyId}`;

/** How long a writer keeps a person's key in memory (an erasure in this process drops it at once). */
const WRITE_KEY_TTL_MS = 5 * 60_000;

interface KeyRow {
  subject_id: string;
  key_id: string;
  wrapped_key: string | null;
  erased_at: Date | null;
}

export class PersonErasedError extends DomainError {
  constructor(subject: string) {
    super("invariant", `The personal data of ${subject} was erased: no new personal data is written for them.`);
  }
}

export interface PersonalDataKeys {
  readonly wrapper: KeyWrapper;
  /**
   * Each person's key for writing, created on first use. Refuses an erased person. A new key is
   * always created and committed on a connection of its own, before any event sealed with it can
   * be appended: a reader that sees the event must find its key (in the command's transaction it
   * would not be visible until that commits, after the broker's ack, and the projector would read
   * a live person as erased). `readVia` reads existing keys (e.g. on the command's transaction).
   */
  writeKeys(subjects: readonly string[], readVia?: Queryable): Promise<Map<string, WriteKey>>;
  /** The ring to read a batch: the keys it names, and which of its people are erased. */
  ring(db: Queryable, wanted: { keyIds: Iterable<string>; subjects: Iterable<string> }): Promise<KeyRing>;
  /** Destroys a person's key (idempotent; inside the erasure's transaction). */
  erase(tx: Queryable, subject: string): Promise<void>;
}

export function createPersonalDataKeys(db: Db, wrapper: KeyWrapper): PersonalDataKeys {
  const cache = new Map<string, { key: WriteKey; until: number }>();

  const unwrap = async (row: KeyRow) => wrapper.unwrap(row.wrapped_key!, wrapContext(row.subject_id, row.key_id));

  async function create(q: Queryable, subjects: string[]) {
    const rows = await Promise.all(
      subjects.map(async (subject) => {
        const keyId = randomUUID();
        return { subject, keyId, wrapped: await wrapper.wrap(newDataKey(), wrapContext(subject, keyId)) };
      }),
    );
    // A concurrent writer may have created one first: theirs stays, ours is dropped.
    await q.$executeRaw`
      INSERT INTO personal_data_keys (subject_id, key_id, wrapped_key, kek_id)
      SELECT r.subject, r."keyId", r.wrapped, ${wrapper.id}
      FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS r(subject uuid, "keyId" uuid, wrapped text)
      ON CONFLICT (subject_id) DO NOTHING`;
  }

  async function read(q: Queryable, subjects: string[]) {
    return q.$queryRaw<KeyRow[]>`
      SELECT subject_id::text, key_id::text, wrapped_key, erased_at FROM personal_data_keys
      WHERE subject_id = ANY(${subjects}::uuid[])`;
  }

  return {
    wrapper,
    async writeKeys(subjects, readVia = db) {
      const now = Date.now();
      const out = new Map<string, WriteKey>();
      const missing: string[] = [];
      for (const s of new Set(subjects)) {
        const hit = cache.get(s);
        if (hit && hit.until > now) out.set(s, hit.key);
        else missing.push(s);
      }
      if (missing.length === 0) return out;
      let rows = await read(readVia, missing);
      if (rows.length < missing.length) {
        const have = new Set(rows.map((r) => r.subject_id));
        await create(db, missing.filter((s) => !have.has(s)));
        rows = await read(db, missing);
      }
      for (const row of rows) {
        if (!row.wrapped_key) throw new PersonErasedError(row.subject_id);
        const key = { keyId: row.key_id, key: await unwrap(row) };
        cache.set(row.subject_id, { key, until: now + WRITE_KEY_TTL_MS });
        out.set(row.subject_id, key);
      }
      return out;
    },
    async ring(q, wanted) {
      const keyIds = [...new Set(wanted.keyIds)].filter((k) => /^[0-9a-fA-F-]{36}$/.test(k));
      const subjects = [...new Set(wanted.subjects)].filter((k) => /^[0-9a-fA-F-]{36}$/.test(k));
      const keys = new Map<string, Buffer>();
      const erased = new Set<string>();
      if (keyIds.length || subjects.length) {
        // Schema-qualified: a rebuild's batches run with search_path set to the shadow schema.
        const rows = await q.$queryRaw<KeyRow[]>`
          SELECT subject_id::text, key_id::text, wrapped_key, erased_at FROM public.personal_data_keys
          WHERE key_id = ANY(${keyIds}::uuid[]) OR (erased_at IS NOT NULL AND subject_id = ANY(${subjects}::uuid[]))`;
        for (const row of rows) {
          if (row.erased_at) erased.add(row.subject_id);
          else if (row.wrapped_key) keys.set(row.key_id, await unwrap(row));
        }
      }
      return { key: (id) => keys.get(id.toLowerCase()), isErased: (s) => erased.has(s.toLowerCase()) };
    },
    async erase(tx, subject) {
      cache.delete(subject);
      await tx.$executeRaw`
        INSERT INTO public.personal_data_keys (subject_id, key_id, wrapped_key, kek_id, erased_at)
        VALUES (${subject}::uuid, ${randomUUID()}::uuid, NULL, NULL, now())
        ON CONFLICT (subject_id) DO UPDATE SET wrapped_key = NULL, kek_id = NULL,
          erased_at = COALESCE(personal_data_keys.erased_at, now())`;
    },
  };
}
