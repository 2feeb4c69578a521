/** A thread of lib/process/thread-pool.unit.test.ts's pools: doubles `n`, or fails as told. */
import { threadId } from "node:worker_threads";
import { serveJobs } from "@/lib/process/thread-pool";

serveJobs<{ n: number; fail?: string; exit?: boolean }, { doubled: number; thread: number }>(async ({ n, fail, exit }) => {
  if (exit) process.exit(3);
  if (fail) throw new Error(fail);
  await new Promise((resolve) => setTimeout(resolve, 5));
  return { doubled: n * 2, thread: threadId };
});
