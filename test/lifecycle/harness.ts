/**
 * Runs `npm start` (scripts/start.ts) as a real process tree and finds every process of it
 * afterwards: each run gets a marker in its environment, which every descendant inherits
 * (workers, the console, java, postgres and its backends), whatever process group it is in.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

export const ROOT = path.resolve(import.meta.dirname, "../..");

export interface StartedStack {
  child: ChildProcess;
  marker: string;
  output: string[];
  /** Resolves when a line matching `pattern` appears; rejects if the process exits first. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<void>;
  exited: Promise<number | null>;
}

/** Spawns scripts/start.ts in `cwd` as the leader of its own process group, like a shell's foreground job. */
export function startStack(cwd: string, args: string[], env: Record<string, string | undefined>): StartedStack {
  const marker = `LIFECYCLE_TEST_RUN=${randomUUID()}`;
  const [key, value] = marker.split("=") as [string, string];
  const base = { ...process.env };
  // The test run's servers are for the other tests; a stack starts its own unless given them.
  delete base.DATABASE_URL;
  delete base.KAFKA_BROKERS;
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts", ...args], {
    cwd,
    env: { ...base, ...env, [key]: value },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const output: string[] = [];
  const listeners = new Set<() => void>();
  const collect = (chunk: Buffer) => {
    output.push(...chunk.toString().split("\n").filter(Boolean));
    for (const l of listeners) l();
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const waitFor = (pattern: RegExp, timeoutMs: number) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (output.some((l) => pattern.test(l))) done(resolve);
      };
      const done = (fn: () => void) => {
        listeners.delete(check);
        clearTimeout(timer);
        fn();
      };
      const timer = setTimeout(() => done(() => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms`))), timeoutMs);
      listeners.add(check);
      void exited.then((code) => done(() => reject(new Error(`start exited (code ${code}) before a line matching ${pattern}`))));
      check();
    });
  return { child, marker, output, waitFor, exited };
}

/** pid and command line of every live process whose environment holds `marker`. */
export function processesWith(marker: string): Array<{ pid: number; command: string }> {
  const found: Array<{ pid: number; command: string }> = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!fs.readFileSync(`/proc/${entry}/environ`, "latin1").split("\0").includes(marker)) continue;
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue; // a zombie has stopped
      found.push({ pid: Number(entry), command: fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ").slice(0, 120) });
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/** Waits until no process holds `marker`, or `timeoutMs`; returns what is left. */
export async function waitUntilGone(marker: string, timeoutMs: number): Promise<Array<{ pid: number; command: string }>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = processesWith(marker);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Last resort after a failed test: no test leaves processes behind. */
export function killAll(marker: string): void {
  for (const { pid } of processesWith(marker)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }
}
