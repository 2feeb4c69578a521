/**
 * The bulk load's decoding in worker threads: each fetched batch's messages are parsed, upcast,
 * validated and their sealed personal data revealed (the serde's `decode`) on a thread of a pool
 * while this thread folds the batches already decoded. On a sealed log that is about a third of
 * the fold thread's work per event (bench/PERFORMANCE.md); the fold itself stays on one thread,
 * in log order per partition, exactly as before.
 *
 * The key ring is still read here (its reads and unwrapping go through this process's key store,
 * with whatever it caches and whichever key-encryption key it holds); a job carries the batch's
 * data keys and erased people, the only parts of the ring `decode` asks for, so each thread
 * decodes with the same ring this thread would have.
 */
import type { DecodeResult, Serde } from "@/lib/events/codec";
import type { KeyRing } from "@/lib/privacy/personal-data";
import { serveJobs, startThreadPool } from "@/lib/process/thread-pool";

/**
 * Starts a bulk load's decoding threads (a rebuild's `decoder` option). A function the caller hands
 * in, not a module the rebuild imports: the console imports the rebuild's code (the health page's
 * rebuild panel), and its bundle must not take in the thread machinery that loads tsx.
 */
export type StartDecoder = () => Decoder;

/**
 * The rebuild option for `threads` threads running `entry` (a module calling `serveDecoding` with
 * the app's serde); none for 0, so the fold's thread decodes too.
 */
export function decodeThreads(entry: URL, threads: number): StartDecoder | undefined {
  return threads > 0 ? () => startDecodeThreads(entry, threads) : undefined;
}

export interface DecodeJob {
  stream: string;
  /** Every message's value, one after the other (moved to the thread, not copied). */
  values: ArrayBuffer;
  /** Each value's length in `values`; -1 for a message without one. */
  lengths: number[];
  keys: Array<string | null>;
  /** The data keys of the batch's ring, by key id (lower case). */
  ring: Array<[string, Uint8Array]>;
  /** The people the ring knows to be erased (lower case). */
  erased: string[];
}

interface Message {
  key: Buffer | null;
  value: Buffer | null;
}

export interface Decoder {
  /** The serde's `decode` of each message, in order, with `ring` (made for `wanted`, as wantedKeys gives it). */
  decode(stream: string, messages: readonly Message[], wanted: { keyIds: Iterable<string>; subjects: Iterable<string> }, ring: KeyRing): Promise<DecodeResult[]>;
  close(): Promise<void>;
}

function startDecodeThreads(entry: URL, threads: number): Decoder {
  const pool = startThreadPool<DecodeJob, DecodeResult[]>(entry, threads);
  return {
    decode(stream, messages, wanted, ring) {
      const job = decodeJobOf(stream, messages, wanted, ring);
      return pool.run(job, [job.values]);
    },
    close: () => pool.close(),
  };
}

/** The thread side: decodes each job with `serde`. */
export function serveDecoding(serde: Pick<Serde, "decode">): void {
  serveJobs<DecodeJob, DecodeResult[]>((job) => runDecodeJob(serde, job));
}

/** A batch to decode on another thread: its messages' bytes in one buffer, and the parts of `ring` decode reads. */
export function decodeJobOf(
  stream: string,
  messages: readonly Message[],
  wanted: { keyIds: Iterable<string>; subjects: Iterable<string> },
  ring: KeyRing,
): DecodeJob {
  const lengths = messages.map((m) => (m.value ? m.value.length : -1));
  const values = new Uint8Array(lengths.reduce((n, l) => n + Math.max(l, 0), 0));
  let at = 0;
  for (const m of messages) {
    if (!m.value) continue;
    values.set(m.value, at);
    at += m.value.length;
  }
  const keys: DecodeJob["ring"] = [];
  for (const id of new Set(wanted.keyIds)) {
    const key = ring.key(id);
    // A copy of the key's own: a Buffer may be a view of a shared slab, which would travel whole.
    if (key) keys.push([id.toLowerCase(), new Uint8Array(key)]);
  }
  // Every person the ring knows erased; a ring that cannot list them is asked about the batch's people.
  const erased = [...(ring.erased?.() ?? [...new Set(wanted.subjects)].filter((s) => ring.isErased(s)))].map((s) => s.toLowerCase());
  return { stream, values: values.buffer, lengths, keys: messages.map((m) => m.key?.toString("utf8") ?? null), ring: keys, erased };
}

/** `serde.decode` of each message of `job`, with the ring it carries: what the fold's thread would have decoded. */
export function runDecodeJob(serde: Pick<Serde, "decode">, { stream, values, lengths, keys, ring, erased }: DecodeJob): DecodeResult[] {
  const dataKeys = new Map(ring.map(([id, key]) => [id, Buffer.from(key.buffer, key.byteOffset, key.byteLength)]));
  const erasedPeople = new Set(erased);
  const keyRing: KeyRing = { key: (id) => dataKeys.get(id.toLowerCase()), isErased: (s) => erasedPeople.has(s.toLowerCase()) };
  const results: DecodeResult[] = [];
  let at = 0;
  for (let i = 0; i < lengths.length; i++) {
    const length = lengths[i]!;
    const value = length < 0 ? null : Buffer.from(values, at, length);
    if (length > 0) at += length;
    results.push(serde.decode(value, stream, keys[i] ?? null, keyRing));
  }
  return results;
}
