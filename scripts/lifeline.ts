/**
 * Preloaded (`node --import tsx --import ./scripts/lifeline.ts …`) into every process npm start
 * runs when LIFELINE_PARENT_PID is set. Those processes run detached, in process groups of their
 * own, so a terminal's signals reach npm start only, which stops them in order. If npm start
 * itself dies without stopping them (SIGKILL, a crash), they are re-parented: this notices
 * within a second and stops the process like a SIGTERM would, and for good 12 s later.
 */
// npm start gone means our output pipe is closed: a write failing with EPIPE must not become an
// uncaught exception (in the console, every log line would then be one).
for (const stream of [process.stdout, process.stderr]) stream.on("error", () => {});

const parentPid = Number(process.env.LIFELINE_PARENT_PID);
if (Number.isInteger(parentPid) && parentPid > 1) {
  const timer = setInterval(() => {
    if (process.ppid === parentPid) return;
    clearInterval(timer);
    console.error(`[lifeline] parent process ${parentPid} is gone: stopping`);
    setTimeout(() => process.exit(1), 12_000).unref();
    process.kill(process.pid, "SIGTERM");
  }, 1_000);
  timer.unref();
}

export {};
