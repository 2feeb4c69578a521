/**
 * The console's metrics: commands by type and outcome, open dead letters. The server-action
 * wrapper calls recordCommand once per command; /metrics (app/metrics/route.ts)
 * exports them with the process's default metrics.
 */
import { Counter, Gauge, Histogram } from "prom-client";
import { metricSet } from "./registry";

const consoleMetrics = () =>
  metricSet("console", (registry) => ({
    commands: new Counter({
      name: "console_commands_total",
      help: "Commands run by the console, by command type and outcome (ok, or the error code).",
      labelNames: ["command", "outcome"] as const,
      registers: [registry],
    }),
    commandDuration: new Histogram({
      name: "console_command_duration_seconds",
      help: "Command latency as the admin waits for it (validate, decide, Kafka ack, commit), by command type and outcome.",
      labelNames: ["command", "outcome"] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    openDeadLetters: new Gauge({
      name: "console_dead_letters_open",
      help: "Dead letters not yet retried or discarded (read from the database at each scrape).",
      registers: [registry],
    }),
  }));

export function setOpenDeadLetters(count: number): void {
  consoleMetrics().openDeadLetters.set(count);
}

/**
 * Records one command: `type` e.g. "CreateUser", `outcome` "ok" or an error
 * code ("conflict", "validation", "unavailable", "unexpected"…), `seconds` its
 * duration. Keep `outcome` to a small fixed set: each value is a time series.
 */
export function recordCommand(type: string, outcome: string, seconds: number): void {
  const m = consoleMetrics();
  m.commands.inc({ command: type, outcome });
  m.commandDuration.observe({ command: type, outcome }, seconds);
}
