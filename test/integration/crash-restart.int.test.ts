/**
 * The projector worker (a real process) killed with SIGKILL in the middle of a
 * stream, several times, then restarted: the read model must equal the fold of
 * the whole log, with no event lost and none applied twice.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRole } from "@/modules/roles/application/role-commands";
import { assignRole, createUser, recordLogin, updateUser } from "@/modules/users/application/user-commands";
import { createTestContext, expectModelEqualsLog, readEvents, waitUntilCaughtUp, type TestContext } from "../integration";

let t: TestContext;
const root = path.resolve(import.meta.dirname, "../..");

beforeAll(async () => {
  t = await createTestContext("crash");
});
afterAll(async () => {
  await t?.close();
});

/** The workers' log lines, printed if the test fails. */
const output: string[] = [];

function spawnProjector(): ChildProcess {
  // One process (no tsx wrapper), so the signals reach the worker itself.
  const child = spawn(process.execPath, ["--import", "tsx", "workers/projector.ts"], {
    cwd: root,
    env: { ...process.env, ...t.env, LOG_LEVEL: "debug" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const collect = (chunk: Buffer) => output.push(...chunk.toString().split("\n").filter(Boolean).map((l) => `[${child.pid}] ${l}`));
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  return child;
}

const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once("exit", () => resolve())));

describe("projector crash and restart", () => {
  it("SIGKILLed mid-stream three times, it resumes and the read model equals the fold of the log", async () => {
    const role = await createRole(t.deps, t.ctx, { name: "crash-test" });
    let child = spawnProjector();
    let writing = true;
    const writer = (async () => {
      let n = 0;
      while (writing) {
        const batch = Array.from({ length: 8 }, () => n++);
        await Promise.all(
          batch.map(async (i) => {
            const u = await createUser(t.deps, t.ctx, { email: `crash${i}@example.com`, name: `Crash ${i}` });
            await assignRole(t.deps, t.ctx, { userId: u.aggregateId, roleId: role.aggregateId });
            await updateUser(t.deps, t.ctx, { userId: u.aggregateId, expectedVersion: 2, name: `Crash ${i} renamed` });
            await recordLogin(t.deps, t.ctx, { userId: u.aggregateId, ip: "203.0.113.9", userAgent: null });
          }),
        );
      }
      return n;
    })();

    for (const delay of [2500, 1800, 3100]) {
      await new Promise((r) => setTimeout(r, delay));
      child.kill("SIGKILL");
      await exited(child);
      child = spawnProjector();
    }
    await new Promise((r) => setTimeout(r, 1500));
    writing = false;
    const users = await writer;
    expect(users).toBeGreaterThan(16); // the kills really happened mid-stream

    try {
      await waitUntilCaughtUp(t, 90_000);
    } catch (error) {
      console.error(`projector output:\n${output.slice(-200).join("\n")}`);
      throw error;
    } finally {
      child.kill("SIGTERM");
      await exited(child);
    }
    const events = await readEvents(t);
    expect(events.length).toBe(1 + users * 4);
    await expectModelEqualsLog(t, 0);
    // One timeline row per user event: nothing lost, nothing twice.
    expect(await t.db.userEvent.count()).toBe(users * 4);
    expect(child.exitCode).toBe(0); // graceful SIGTERM shutdown
  });
});
