/**
 * Servers started here run detached (process groups of their own), so they outlive this Node
 * process unless told: `stopWithThisProcess` sends each its signal when the process exits, or
 * dies of a signal it does not handle itself (tests, drills, crashes). A program that does handle
 * the signal (npm start) stops them itself, in order, after their clients.
 */
import type { ChildProcess } from "node:child_process";

const live = new Map<ChildProcess, NodeJS.Signals>();
let installed = false;

/** Registers `child` until it exits; `signal` is what it gets if this process ends first. */
export function stopWithThisProcess(child: ChildProcess, signal: NodeJS.Signals): void {
  live.set(child, signal);
  child.once("exit", () => live.delete(child));
  if (installed) return;
  installed = true;
  const stopAll = () => {
    for (const [c, s] of live) {
      try {
        c.kill(s);
      } catch {
        /* already gone */
      }
    }
  };
  process.once("exit", stopAll);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(sig, () => {
      if (process.listenerCount(sig) > 0) return;
      stopAll();
      process.kill(process.pid, sig);
    });
  }
}
