/**
 * One piece of long, CPU-heavy work in a worker thread of this process, optionally at a lower
 * CPU priority than the rest of it: a read-model rebuild's fold next to the live projector.
 *
 * Why a thread: the work's JavaScript no longer shares the event loop of what the process is
 * for (the live projector's batches, its heartbeats, its metrics). And on Linux the nice value
 * is a per-thread attribute (setpriority(2), "BUGS"), so the thread alone can be made to yield
 * the CPU to others while still taking every cycle nobody else wants. Elsewhere (macOS, Windows)
 * the priority is per process and is left alone. A lower priority has its price: a lock the
 * thread holds is held longer when it is starved (a rebuild's switch holds the live projector).
 *
 * The thread talks to the world itself (its own database pool and Kafka clients); it hands back
 * one structured-clonable answer. A nice value can only be raised by an unprivileged process,
 * never lowered again, which is why the priority belongs to a thread made for the one job.
 */
import { createRequire } from "node:module";
import os from "node:os";
import { pathToFileURL } from "node:url";
import { isMainThread, parentPort, Worker, workerData, type WorkerOptions } from "node:worker_threads";

type Answer<T> = { ok: true; value: T } | { ok: false; message: string };

export interface ThreadOptions {
  /** How much lower the thread's priority is than the process's: added to its nice value (capped at 19; 0 = the same). */
  nice?: number;
  /** After the answer, how long the thread may take to release what it holds before it is terminated. */
  exitGraceMs?: number;
  /** The thread's process.env (default: a copy of this process's). */
  env?: Record<string, string | undefined>;
  /** Node options of the thread (default: this process's). */
  execArgv?: string[];
}

/** Runs `entry` (a module calling `threadMain`) with `input`; resolves with its answer, rejects if it fails or dies. */
export function runInThread<I, O>(entry: URL, input: I, { nice = 0, exitGraceMs = 10_000, env, execArgv }: ThreadOptions = {}): Promise<O> {
  return new Promise<O>((resolve, reject) => {
    const worker = startWorker(entry, { workerData: { input, nice }, env: env ?? process.env, execArgv });
    let answered = false;
    worker.once("message", (answer: Answer<O>) => {
      answered = true;
      if (answer.ok) resolve(answer.value);
      else reject(new Error(answer.message));
      // Its clients should be closed by now; a handle left open must not keep a thread alive.
      setTimeout(() => void worker.terminate(), exitGraceMs).unref();
    });
    worker.once("error", (error) => {
      if (!answered) reject(error);
    });
    worker.once("exit", (code) => {
      if (!answered) reject(new Error(`the thread stopped (exit code ${code}) before it answered`));
    });
  });
}

/** A worker thread running `entry`; a TypeScript entry is loaded through tsx (loadThroughTsx). */
export function startWorker(entry: URL, options: WorkerOptions): Worker {
  return entry.pathname.endsWith(".ts") ? new Worker(loadThroughTsx(entry), { ...options, eval: true }) : new Worker(entry, options);
}

/**
 * A TypeScript entry is loaded as the project's processes load theirs (`node --import tsx`):
 * Node does not carry the main thread's module hooks, nor its `--import`, into a worker thread,
 * so the thread registers tsx itself before it imports the entry.
 */
function loadThroughTsx(entry: URL): string {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx/esm/api")).href;
  return `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); });`;
}

/** The thread side: lowers this thread's priority (Linux), runs `work`, posts its answer. */
export function threadMain<I, O>(work: (input: I) => Promise<O>): void {
  if (isMainThread || !parentPort) throw new Error("threadMain runs in a worker thread started by runInThread");
  const port = parentPort;
  const { input, nice } = workerData as { input: I; nice: number };
  // getpriority/setpriority(PRIO_PROCESS, 0, …): on Linux, the calling thread only. Relative to the
  // process's own (a projector already started under `nice` goes lower still, never higher).
  if (nice > 0 && process.platform === "linux") os.setPriority(Math.min(19, os.getPriority() + nice));
  work(input).then(
    (value) => port.postMessage({ ok: true, value } satisfies Answer<O>),
    (error: unknown) => port.postMessage({ ok: false, message: error instanceof Error ? error.message : String(error) } satisfies Answer<O>),
  );
}
