/**
 * The structured logger (pino): one JSON line per entry on stdout, with
 * `time` (ISO-8601), `level` as a word and `msg`, the shape the project's
 * logs always had. LOG_LEVEL sets the level (default info; `debug` adds a line
 * per projected batch with its correlation ids, `trace` one per event; `silent` for tests).
 */
import { pino, type DestinationStream, type Logger } from "pino";

export type { Logger };

/** A logger at `level`, writing to stdout or to `destination` (e.g. a bench reading the lines back). */
export function createLogger(level = process.env.LOG_LEVEL ?? "info", destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return destination ? pino(options, destination) : pino(options);
}

const g = globalThis as typeof globalThis & { __adminConsoleLog?: Logger };

/** The process's logger (on globalThis: Next's dev reloads keep one). */
export function getLogger(): Logger {
  g.__adminConsoleLog ??= createLogger();
  return g.__adminConsoleLog;
}

/** A logger that writes nothing (tests, drills). */
export const silentLogger: Logger = pino({ level: "silent" });

/**
 * Logs an error nobody expected as one JSON line with a fresh id, and returns
 * the id: the caller shows it, so a report can be matched to the log.
 * `context` adds fields to the line (e.g. which action failed).
 */
export function logUnexpected(msg: string, error: unknown, context: Record<string, unknown> = {}): string {
  const errorId = crypto.randomUUID();
  getLogger().error({ ...context, errorId, err: error }, msg);
  return errorId;
}
