/** The projector as a real process (`node --import tsx workers/projector.ts`), as in production. */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "@/infra/kafka/broker";
import type { Scope } from "./infra";

export interface ProjectorProcess {
  child: ChildProcess;
  pid: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Lines of its output (JSON log lines) so far. */
  lines: string[];
  /** Resolves once it logged "projector started" (consumer running); rejects if it exits first. */
  started(timeoutMs?: number): Promise<void>;
  /** Why it is not running any more, or undefined while it runs. */
  deadReason(): string | undefined;
}

const live = new Set<ChildProcess>();
/** Never leave a projector behind (the runner calls this on every exit path). */
export function killAllProjectors() {
  for (const child of live) child.kill("SIGKILL");
}

/** `scope`: anything with the environment of a scope (drills) or a test context (integration tests). */
export function spawnProjector(scope: Pick<Scope, "env">, logFile: string, env: Record<string, string> = {}): ProjectorProcess {
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const out = fs.createWriteStream(logFile, { flags: "a" });
  // One process (no tsx CLI wrapper), so SIGKILL hits the worker itself.
  const child = spawn(process.execPath, ["--import", "tsx", "workers/projector.ts"], {
    cwd: REPO_ROOT,
    env: { ...process.env, PROJECTOR_METRICS_PORT: "0", ...scope.env, LOG_LEVEL: "info", KAFKAJS_LOG_LEVEL: "nothing", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  live.add(child);
  const lines: string[] = [];
  const collect = (chunk: Buffer) => {
    out.write(chunk);
    for (const l of chunk.toString().split("\n")) if (l.trim()) lines.push(l);
    if (lines.length > 500) lines.splice(0, lines.length - 500);
  };
  child.stdout!.on("data", collect);
  child.stderr!.on("data", collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("close", (code, signal) => {
      live.delete(child);
      out.end();
      resolve({ code, signal });
    }),
  );
  const deadReason = () =>
    child.exitCode === null && child.signalCode === null
      ? undefined
      : `projector pid ${child.pid} exited (code ${child.exitCode}, signal ${child.signalCode}): ${lines.slice(-2).join(" | ")}`;
  return {
    child,
    pid: child.pid ?? -1,
    exited,
    lines,
    deadReason,
    async started(timeoutMs = 90_000) {
      const deadline = Date.now() + timeoutMs;
      while (!lines.some((l) => l.includes('"projector started"'))) {
        const dead = deadReason();
        if (dead) throw new Error(dead);
        if (Date.now() > deadline) throw new Error(`projector pid ${child.pid} not started within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async kill(signal: NodeJS.Signals = "SIGKILL") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
