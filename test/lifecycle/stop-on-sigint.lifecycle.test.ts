/**
 * Issue 10, "Ctrl-C leaves the projector running": npm start with its own PostgreSQL and Kafka,
 * then SIGINT to its whole process group, as a terminal's Ctrl-C sends it. Every process of the
 * stack must be gone well within 20 s, and npm start must say it stopped.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePorts } from "@/infra/ports";
import { ROOT, killAll, processesWith, startStack, waitUntilGone, type StartedStack } from "./harness";

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "lifecycle-sigint-"));
fs.chmodSync(dataDir, 0o755); // as root, PostgreSQL runs as 'postgres' and must reach its data
let stack: StartedStack | undefined;

afterAll(() => {
  if (stack) killAll(stack.marker);
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** npm start with its own PostgreSQL and Kafka on free ports, its data in `dataDir`. */
async function startOwnStack(): Promise<StartedStack> {
  const [pg, kafka, controller, port] = await freePorts(4);
  return startStack(ROOT, [], {
    LOCAL_DATA_DIR: dataDir,
    EMBEDDED_POSTGRES_PORT: String(pg),
    LOCAL_KAFKA_PORT: String(kafka),
    LOCAL_KAFKA_CONTROLLER_PORT: String(controller),
    PORT: String(port),
    PROJECTOR_METRICS_PORT: "0",
  });
}

describe("npm start and Ctrl-C", () => {
  it("SIGINT to the process group stops every process it started within 20 s, and it says so", async () => {
    stack = await startOwnStack();
    try {
      await stack.waitFor(/^\[start\] ready in/, 240_000);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${stack.output.slice(-40).join("\n")}`);
    }
    const running = processesWith(stack.marker).map((p) => p.command);
    for (const name of ["scripts/start.ts", "workers/projector.ts", "workers/notifier-email.ts", "java", "bin/postgres"]) {
      expect(running.some((c) => c.includes(name)), `${name} running in ${running.join("\n")}`).toBe(true);
    }

    const signalled = Date.now();
    process.kill(-stack.child.pid!, "SIGINT");
    const left = await waitUntilGone(stack.marker, 20_000);
    const seconds = (Date.now() - signalled) / 1000;
    expect(left, `still running ${seconds} s after SIGINT:\n${stack.output.slice(-30).join("\n")}`).toEqual([]);
    expect(seconds).toBeLessThan(15);
    expect(stack.output).toContain("[start] stopped");
    expect(await stack.exited).toBe(0);
    stack = undefined;
  }, 300_000);

  it("stops as well when its output pipe is already closed (`npm start | tee log`, tee killed by the same Ctrl-C)", async () => {
    stack = await startOwnStack();
    await stack.waitFor(/^\[start\] ready in/, 240_000);
    // The reader goes away first, as tee does: every later write of npm start fails with EPIPE
    // (it used to spin on them, reporting each failure with another failing write, and never stop).
    stack.child.stdout?.destroy();
    stack.child.stderr?.destroy();
    const signalled = Date.now();
    process.kill(-stack.child.pid!, "SIGINT");
    const left = await waitUntilGone(stack.marker, 20_000);
    expect(left, `still running ${(Date.now() - signalled) / 1000} s after SIGINT`).toEqual([]);
    expect(await stack.exited).toBe(0);
    stack = undefined;
  }, 300_000);
});
