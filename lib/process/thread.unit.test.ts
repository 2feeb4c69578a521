import { describe, expect, it } from "vitest";
import { runInThread } from "./thread";

const fixture = new URL("./thread.fixture.ts", import.meta.url);
// The fixture is TypeScript, loaded through tsx as the projector worker's rebuild thread is; no
// options of the test runner's process are carried into the thread.
const execArgv: string[] = [];

describe("runInThread", () => {
  it("answers with what the thread's work returned, in the environment it was given", async () => {
    await expect(runInThread(fixture, { do: "answer", value: "hello" }, { execArgv, env: { THREAD_FIXTURE: "set" } })).resolves.toEqual({
      echoed: "hello",
      env: "set",
    });
  });

  it("rejects with the work's own error message", async () => {
    await expect(runInThread(fixture, { do: "fail", value: "no disk" }, { execArgv })).rejects.toThrow("asked to fail: no disk");
  });

  it("rejects when the thread stops before it answers", async () => {
    await expect(runInThread(fixture, { do: "exit" }, { execArgv })).rejects.toThrow(/stopped \(exit code 3\) before it answered/);
  });

  it.runIf(process.platform === "linux")("lowers the thread's priority only, not the process's main thread", async () => {
    const seen = await runInThread<unknown, { main: number; threads: number[] }>(fixture, { do: "nice" }, { execArgv, nice: 10 });
    expect(seen.threads.filter((n) => n === Math.min(19, seen.main + 10))).toHaveLength(1);
    expect(seen.threads.filter((n) => n !== seen.main)).toHaveLength(1);
  });
});
