import { afterEach, describe, expect, it } from "vitest";
import { startThreadPool, type ThreadPool } from "./thread-pool";

const ENTRY = new URL("../../test/pool-thread-fixture.ts", import.meta.url);
type Job = { n: number; fail?: string; exit?: boolean };
type Out = { doubled: number; thread: number };

let pool: ThreadPool<Job, Out> | null = null;
afterEach(async () => {
  await pool?.close();
  pool = null;
});

describe("thread pool", () => {
  it("answers each job with its own result, the jobs spread over the threads", async () => {
    pool = startThreadPool<Job, Out>(ENTRY, 2);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, n) => pool!.run({ n })));
    expect(answers.map((a) => a.doubled)).toEqual(Array.from({ length: 20 }, (_, n) => n * 2));
    expect(new Set(answers.map((a) => a.thread)).size).toBe(2);
  }, 30_000);

  it("rejects a job that throws with its message, and goes on with the next", async () => {
    pool = startThreadPool<Job, Out>(ENTRY, 1);
    await expect(pool.run({ n: 1, fail: "this batch cannot be decoded" })).rejects.toThrow("this batch cannot be decoded");
    expect((await pool.run({ n: 2 })).doubled).toBe(4);
  }, 30_000);

  it("when a thread dies, rejects its pending jobs and every later one instead of waiting forever", async () => {
    pool = startThreadPool<Job, Out>(ENTRY, 1);
    const pending = pool.run({ n: 1, exit: true });
    await expect(pending).rejects.toThrow(/stopped with exit code 3/);
    await expect(pool.run({ n: 2 })).rejects.toThrow(/stopped with exit code 3/);
  }, 30_000);

  it("refuses a pool without threads, and jobs after it is closed", async () => {
    expect(() => startThreadPool<Job, Out>(ENTRY, 0)).toThrow("at least one thread");
    pool = startThreadPool<Job, Out>(ENTRY, 1);
    await pool.close();
    await expect(pool.run({ n: 1 })).rejects.toThrow("closed");
  }, 30_000);
});
