/**
 * One bounded stop for a worker process, on SIGINT, SIGTERM or SIGHUP however it arrives
 * (a terminal's Ctrl-C to the whole process group, `kill` to this process, npm start
 * forwarding it). Each step (consumer disconnect, producer disconnect, db.$disconnect, …) can
 * hang forever when Kafka or PostgreSQL are already gone, so each gets a share of a hard
 * deadline: a step that does not finish in time is logged by name and skipped, and the
 * process exits non-zero. A second signal exits at once.
 */
export interface StopStep {
  name: string;
  run: () => Promise<unknown> | unknown;
}

export interface StopOnSignalsOptions {
  log: (level: "info" | "error", msg: string, extra?: Record<string, unknown>) => void;
  /** Run in order; each is bounded by what is left of `deadlineMs`. */
  steps: () => StopStep[];
  /** Default 8 s: inside npm start's 9 s grace before SIGKILL, so the line naming what hung is logged. */
  deadlineMs?: number;
  /** For tests: how the process ends (default process.exit). */
  exit?: (code: number) => void;
}

/** Installs the signal handlers; returns `stop(reason)` for other reasons to stop (a fatal error). */
export function stopOnSignals(options: StopOnSignalsOptions): (reason: string) => Promise<void> {
  const deadlineMs = options.deadlineMs ?? 8_000;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let stopping: Promise<void> | undefined;

  const stop = (reason: string): Promise<void> => {
    stopping ??= (async () => {
      options.log("info", `received ${reason}, stopping`);
      const deadline = Date.now() + deadlineMs;
      const failed: string[] = [];
      for (const step of options.steps()) {
        const left = deadline - Date.now();
        let timer: NodeJS.Timeout | undefined;
        const outcome = await Promise.race([
          Promise.resolve()
            .then(step.run)
            .then(
              () => "ok" as const,
              (error: unknown) => `failed: ${String(error)}`,
            ),
          new Promise<string>((resolve) => {
            timer = setTimeout(() => resolve(`did not finish within ${Math.max(left, 0)} ms`), Math.max(left, 0));
          }),
        ]);
        clearTimeout(timer);
        if (outcome !== "ok") failed.push(`${step.name} ${outcome}`);
      }
      if (failed.length) {
        options.log("error", `did not stop cleanly: ${failed.join("; ")}; exiting anyway`);
        exit(1);
      } else {
        options.log("info", "stopped");
        exit(0);
      }
    })();
    return stopping;
  };

  // Output to a closed pipe (npm start gone) fails with EPIPE: never a reason to hang or crash a stop.
  for (const stream of [process.stdout, process.stderr]) stream.on("error", () => {});
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      if (stopping) {
        options.log("error", `received ${signal} again while stopping: exiting now`);
        exit(130);
        return;
      }
      void stop(signal);
    });
  }
  return stop;
}
