/**
 * The pacing of batched commands (yieldToCommands): between two batches they wait for the single
 * commands running in this process, at most a bound. The database here is a stand-in whose one
 * transaction the test holds open: what is tested is the bookkeeping, not PostgreSQL.
 */
import { describe, expect, it } from "vitest";
import { executeOnStream, yieldToCommands, type CommandDeps } from "./execute";

function heldCommand() {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const deps = {
    db: { $transaction: async () => held.then(() => ({ aggregateId: "a", version: 0, events: [] })) },
    appender: { prepare: async () => {} },
  } as unknown as CommandDeps;
  const running = executeOnStream(deps, { actor: { kind: "service", name: "t" } }, {
    stream: { headType: "user" },
    serde: { registry: {} },
    streamId: "a",
    decide: () => [],
    evolve: (s: unknown) => s,
  } as never);
  return { release, running };
}

const settledWithin = async (p: Promise<unknown>, ms: number) =>
  Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

describe("yieldToCommands", () => {
  it("returns at once when no command is running", async () => {
    expect(await settledWithin(yieldToCommands(10_000), 20)).toBe(true);
  });

  it("waits for the running commands to finish", async () => {
    const a = heldCommand();
    const b = heldCommand();
    const yielded = yieldToCommands(10_000);
    expect(await settledWithin(yielded, 30)).toBe(false);
    a.release();
    await a.running;
    expect(await settledWithin(yielded, 30)).toBe(false); // b still runs
    b.release();
    await b.running;
    expect(await settledWithin(yielded, 30)).toBe(true);
  });

  it("waits no longer than its bound", async () => {
    const a = heldCommand();
    const started = Date.now();
    await yieldToCommands(50);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    a.release();
    await a.running;
  });
});
