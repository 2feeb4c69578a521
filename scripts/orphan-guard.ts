/**
 * `node --import tsx scripts/orphan-guard.ts <pid>:<signal|none> …`, run by npm start once it is
 * ready. Its children run detached, so if npm start is SIGKILLed (or crashes) nothing would stop
 * Kafka and PostgreSQL, nor a worker whose event loop is stuck: this notices within a second that
 * its parent is gone, sends each its stop signal (`none`: the worker's lifeline does), SIGKILLs the
 * process group of whatever is still there 8 s later, and exits. A SIGTERM (npm start's own,
 * orderly stop, which then stops the servers itself) just ends it.
 */
const parentPid = process.ppid;
const targets = process.argv.slice(2).map((arg) => {
  const [pid, signal] = arg.split(":");
  return { pid: Number(pid), signal: (signal ?? "SIGTERM") as NodeJS.Signals };
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const send = (pid: number, signal: NodeJS.Signals) => {
  try {
    process.kill(pid, signal);
  } catch {
    /* gone */
  }
};

process.on("SIGTERM", () => process.exit(0));
process.on("SIGINT", () => process.exit(0));

const timer = setInterval(() => {
  if (process.ppid === parentPid) return;
  clearInterval(timer);
  console.error(`[orphan-guard] parent process ${parentPid} is gone: stopping ${targets.map((t) => t.pid).join(", ")}`);
  for (const t of targets) if (t.signal !== ("none" as NodeJS.Signals)) send(t.pid, t.signal);
  const deadline = Date.now() + 8_000;
  const wait = setInterval(() => {
    const left = targets.filter((t) => alive(t.pid));
    if (left.length && Date.now() < deadline) return;
    for (const t of left) send(-t.pid, "SIGKILL"); // each leads its own process group
    clearInterval(wait);
    process.exit(0);
  }, 200);
}, 1_000);

export {};
