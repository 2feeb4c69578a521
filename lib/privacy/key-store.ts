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
import type { SqlTx } from "@/lib/sql-tx";
import { newDataKey } from "@/lib/crypto/aead";
import type { KeyWrapper } from "@/lib/crypto/key-wrapper";
import { DomainError } from "@/lib/errors";
import type { KeyRing, WriteKey } from "./personal-data";

export type Queryable = Pick<Db, "$queryRaw" | "$executeRaw"> | SqlTx;

/** Binds a wrapped key to its row: a wrapped key copied to another person's row does not unwrap. */
const wrapContext = (subject: string, keyId: string) => `personal-data-key:${subject}:${keyId}`;

/** How long a writer keeps a person's key in memory (an erasure in this process drops it at once). */
const WRITE_KEY_TTL_MS = 5 * 60_000;
/**
 * Unwrapped keys a reader keeps between batches (a person's next events need the same key): at
 * most this many, each for READ_KEY_TTL_MS after a batch last needed it. Each batch still reads
 * every key row it needs, so an erasure anywhere is seen by the next batch that needs the key,
 * which drops it from memory: the cache only saves the unwrap (a KMS call where the KEK lives in
 * one). An erasure in this process drops it at once.
 */
const READ_KEY_CACHE_SIZE = 50_000;
const READ_KEY_TTL_MS = 5 * 60_000;
/** Keys for future people made in one statement; more are made when fewer than a quarter are left. */
const NEW_SUBJECT_BATCH = 32;

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
  /**
   * Creates and commits the keys of `subjects` that have none, in one statement on the writer's
   * own pool. A command starts it beside its transaction and awaits it before its append: it never
   * waits for a connection of the pool the transaction holds one of, so it cannot deadlock it. An
   * erased person is skipped (the command decides what that means, e.g. "already erased").
   */
  prepare(subjects: readonly string[]): Promise<void>;
  /**
   * A fresh id for a new person whose key is already created and committed: keys for future
   * people are made ahead, NEW_SUBJECT_BATCH at a time in one statement on the writer's pool, so
   * creating a user costs no key creation in the command's path (one commit per batch, not per
   * person). Ids handed out are never handed out again; the few left unused when a process stops
   * stay as keys of nobody (`close` deletes them on a clean stop).
   */
  newSubject(): Promise<string>;
  /** Deletes the keys made ahead that were never handed out (on a clean stop). */
  close(): Promise<void>;
  /** The ring to read a batch: the keys it names, and which of its people are erased. */
  ring(db: Queryable, wanted: { keyIds: Iterable<string>; subjects: Iterable<string> }): Promise<KeyRing>;
  /** Destroys a person's key (idempotent; inside the erasure's transaction). */
  erase(tx: Queryable, subject: string): Promise<void>;
}

export interface KeyStoreOptions {
  /**
   * A client with a pool of its own (createDb(url, { poolSize: 4 })) on which new keys are created
   * and committed: needed by `prepare`, i.e. by every process that runs commands; readers need none.
   */
  writer?: Db;
}

export function createPersonalDataKeys(db: Db, wrapper: KeyWrapper, options: KeyStoreOptions = {}): PersonalDataKeys {
  const cache = new Map<string, { key: WriteKey; until: number }>();
  // Readers' unwrapped keys by person, least recently confirmed first: each batch that reads a
  // person's key row (so knows them not erased) re-inserts it with a new deadline (Map keeps
  // insertion order), so the deadlines grow along the map and the expired sit at its front.
  const readCache = new Map<string, { keyId: string; key: Buffer; until: number }>();
  const forgetExpired = (now: number) => {
    for (const [subject, entry] of readCache) {
      if (entry.until > now && readCache.size <= READ_KEY_CACHE_SIZE) break;
      readCache.delete(subject);
    }
  };

  const unwrap = async (row: KeyRow) => wrapper.unwrap(row.wrapped_key!, wrapContext(row.subject_id, row.key_id));

  /**
   * Creates the keys of `subjects` that do not exist yet and returns every one of their rows, in one
   * statement (one round trip): the insert's RETURNING gives the new rows, with their raw keys known
   * here (nothing to unwrap), and the same statement reads the rows that already existed. A row a
   * concurrent writer commits after this statement's snapshot is in neither: the caller reads again.
   */
  async function createOrRead(q: Queryable, subjects: string[]) {
    const fresh = new Map<string, { keyId: string; key: Buffer; wrapped: string }>();
    for (const subject of subjects) {
      const keyId = randomUUID();
      const key = newDataKey();
      fresh.set(subject, { keyId, key, wrapped: await wrapper.wrap(key, wrapContext(subject, keyId)) });
    }
    const rows = [...fresh].map(([subject, f]) => ({ subject, keyId: f.keyId, wrapped: f.wrapped }));
    // A concurrent writer may have created one first: theirs stays, ours is dropped.
    const found = await q.$queryRaw<Array<KeyRow & { created: boolean }>>`
      WITH wanted AS (
        SELECT r.subject, r."keyId", r.wrapped
        FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS r(subject uuid, "keyId" uuid, wrapped text)
      ), created AS (
        INSERT INTO personal_data_keys (subject_id, key_id, wrapped_key, kek_id)
        SELECT subject, "keyId", wrapped, ${wrapper.id} FROM wanted
        ON CONFLICT (subject_id) DO NOTHING
        RETURNING subject_id, key_id, wrapped_key, erased_at
      )
      SELECT subject_id::text, key_id::text, wrapped_key, erased_at, true AS created FROM created
      UNION ALL
      SELECT k.subject_id::text, k.key_id::text, k.wrapped_key, k.erased_at, false AS created
      FROM personal_data_keys k JOIN wanted w ON w.subject = k.subject_id`;
    const out: Array<KeyRow & { key?: Buffer }> = [];
    for (const row of found) {
      const mine = fresh.get(row.subject_id);
      out.push(row.created && mine?.keyId === row.key_id ? { ...row, key: mine.key } : row);
    }
    const missing = subjects.filter((s) => !out.some((r) => r.subject_id === s));
    if (missing.length) out.push(...(await read(q, missing)));
    return out;
  }

  async function read(q: Queryable, subjects: string[]) {
    return q.$queryRaw<KeyRow[]>`
      SELECT subject_id::text, key_id::text, wrapped_key, erased_at FROM personal_data_keys
      WHERE subject_id = ANY(${subjects}::uuid[])`;
  }

  /** Each person's key (from the cache, else read or created), and which of them are erased. */
  async function load(subjects: readonly string[], readVia?: Queryable) {
    const now = Date.now();
    const keys = new Map<string, WriteKey>();
    const erased: string[] = [];
    const missing: string[] = [];
    for (const s of new Set(subjects)) {
      const hit = cache.get(s);
      if (hit && hit.until > now) keys.set(s, hit.key);
      else missing.push(s);
    }
    if (missing.length === 0) return { keys, erased };
    // Inside a transaction, existing keys are read on its own connection; only a person with no key
    // yet costs a statement on another connection (the writer's: `prepare` has normally made it).
    const rows: Array<KeyRow & { key?: Buffer }> = readVia ? await read(readVia, missing) : [];
    const absent = missing.filter((s) => !rows.some((r) => r.subject_id === s));
    if (absent.length) rows.push(...(await createOrRead(options.writer ?? db, absent)));
    for (const row of rows) {
      if (!row.wrapped_key) {
        erased.push(row.subject_id);
        continue;
      }
      const key = { keyId: row.key_id, key: row.key ?? (await unwrap(row)) };
      cache.set(row.subject_id, { key, until: now + WRITE_KEY_TTL_MS });
      keys.set(row.subject_id, key);
    }
    return { keys, erased };
  }

  // Keys made ahead for people who do not exist yet (newSubject).
  const ahead: Array<{ subject: string; key: WriteKey }> = [];
  let refilling: Promise<void> | null = null;
  function refill(): Promise<void> {
    refilling ??= (async () => {
      try {
        if (!options.writer) throw new Error("createPersonalDataKeys: newSubject needs a writer (options.writer)");
        const subjects = Array.from({ length: NEW_SUBJECT_BATCH }, () => randomUUID());
        for (const row of await createOrRead(options.writer, subjects)) {
          // Fresh random ids: every row is ours and new (a clash would be a 2^-122 event, and is skipped).
          if (row.key) ahead.push({ subject: row.subject_id, key: { keyId: row.key_id, key: row.key } });
        }
      } finally {
        refilling = null;
      }
    })();
    return refilling;
  }

  return {
    wrapper,
    async newSubject() {
      while (ahead.length === 0) await refill();
      const next = ahead.shift()!;
      cache.set(next.subject, { key: next.key, until: Date.now() + WRITE_KEY_TTL_MS });
      if (ahead.length < NEW_SUBJECT_BATCH / 4) refill().catch(() => {}); // the next caller that finds none waits and sees the error
      return next.subject;
    },
    async close() {
      await refilling?.catch(() => {});
      const unused = ahead.splice(0).map((a) => a.subject);
      if (unused.length && options.writer) {
        await options.writer.$executeRaw`DELETE FROM personal_data_keys WHERE subject_id = ANY(${unused}::uuid[])`;
      }
    },
    async writeKeys(subjects, readVia) {
      const { keys, erased } = await load(subjects, readVia);
      if (erased.length) throw new PersonErasedError(erased[0]!);
      return keys;
    },
    async prepare(subjects) {
      if (!options.writer) throw new Error("createPersonalDataKeys: prepare needs a writer (options.writer), a client with a pool of its own");
      await load(subjects);
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
        const now = Date.now();
        for (const row of rows) {
          if (row.erased_at || !row.wrapped_key) {
            readCache.delete(row.subject_id);
            if (row.erased_at) erased.add(row.subject_id);
            continue;
          }
          const hit = readCache.get(row.subject_id);
          const key = hit && hit.keyId === row.key_id && hit.until > now ? hit.key : await unwrap(row);
          readCache.delete(row.subject_id);
          readCache.set(row.subject_id, { keyId: row.key_id, key, until: now + READ_KEY_TTL_MS });
          keys.set(row.key_id, key);
        }
        forgetExpired(now);
      }
      return { key: (id) => keys.get(id.toLowerCase()), isErased: (s) => erased.has(s.toLowerCase()), erased: () => erased };
    },
    async erase(tx, subject) {
      cache.delete(subject);
      readCache.delete(subject);
      await tx.$executeRaw`
        INSERT INTO public.personal_data_keys (subject_id, key_id, wrapped_key, kek_id, erased_at)
        VALUES (${subject}::uuid, ${randomUUID()}::uuid, NULL, NULL, now())
        ON CONFLICT (subject_id) DO UPDATE SET wrapped_key = NULL, kek_id = NULL,
          erased_at = COALESCE(personal_data_keys.erased_at, now())`;
    },
  };
}
