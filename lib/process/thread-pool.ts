/**
 * A fixed set of worker threads that run one entry (a module calling `serveJobs`) and take jobs
 * from this thread: for CPU-heavy work that is pure given its input (a rebuild's decoding), so
 * that it runs beside the thread that hands it out instead of on it.
 *
 * Each job goes to the thread with the fewest jobs pending and gets its own answer.
 * A job that throws is rejected with its message; a thread that dies rejects its pending jobs and
 * every later one (the pool is then broken: the caller's work fails, it is not silently slower).
 * Threads inherit the creating thread's CPU priority on Linux (a rebuild thread's REBUILD_NICE).
 */
import { isMainThread, parentPort, type Transferable, type Worker } from "node:worker_threads";
import { startWorker } from "./thread";

type Answer<O> = { id: number; ok: true; value: O } | { id: number; ok: false; message: string };

export interface ThreadPool<I, O> {
  /** Runs one job on a thread of the pool; `transfer`: buffers moved to it, not copied. */
  run(input: I, transfer?: readonly Transferable[]): Promise<O>;
  /** Ends every thread; pending jobs are rejected. */
  close(): Promise<void>;
}

export function startThreadPool<I, O>(entry: URL, size: number): ThreadPool<I, O> {
  if (!Number.isInteger(size) || size < 1) throw new Error(`a thread pool needs at least one thread (got ${size})`);
  let broken: Error | null = null;
  let closed = false;
  let nextId = 0;
  const threads = Array.from({ length: size }, () => {
    const pending = new Map<number, { resolve: (value: O) => void; reject: (error: Error) => void }>();
    const worker: Worker = startWorker(entry, { env: process.env });
    const fail = (error: Error) => {
      broken ??= error;
      for (const job of pending.values()) job.reject(error);
      pending.clear();
    };
    worker.on("message", (answer: Answer<O>) => {
      const job = pending.get(answer.id);
      if (!job) return;
      pending.delete(answer.id);
      if (answer.ok) job.resolve(answer.value);
      else job.reject(new Error(answer.message));
    });
    worker.on("error", (error) => fail(error));
    worker.on("exit", (code) => {
      if (!closed) fail(new Error(`a thread of the pool (${entry.pathname}) stopped with exit code ${code}`));
    });
    return { worker, pending };
  });
  return {
    run(input, transfer = []) {
      if (closed) return Promise.reject(new Error("the thread pool is closed"));
      if (broken) return Promise.reject(broken);
      const thread = threads.reduce((least, t) => (t.pending.size < least.pending.size ? t : least));
      const id = nextId++;
      return new Promise<O>((resolve, reject) => {
        thread.pending.set(id, { resolve, reject });
        thread.worker.postMessage({ id, input }, transfer as Transferable[]);
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      const stopped = new Error("the thread pool was closed");
      for (const t of threads) {
        for (const job of t.pending.values()) job.reject(stopped);
        t.pending.clear();
      }
      await Promise.all(threads.map((t) => t.worker.terminate()));
    },
  };
}

/** The thread side of a pool: answers each job with `handle`'s result (or its error's message). */
export function serveJobs<I, O>(handle: (input: I) => O | Promise<O>): void {
  if (isMainThread || !parentPort) throw new Error("serveJobs runs in a thread started by startThreadPool");
  const port = parentPort;
  port.on("message", ({ id, input }: { id: number; input: I }) => {
    Promise.resolve()
      .then(() => handle(input))
      .then(
        (value) => port.postMessage({ id, ok: true, value } satisfies Answer<O>),
        (error: unknown) => port.postMessage({ id, ok: false, message: error instanceof Error ? error.message : String(error) } satisfies Answer<O>),
      );
  });
}
