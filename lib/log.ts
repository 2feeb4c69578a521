/**
 * The structured logger (pino): one JSON line per entry on stdout, with
 * `time` (ISO-8601), `level` as a word and `msg`, the shape the project's
 * logs always had. LOG_LEVEL sets the level (default info; `debug` adds a line
 * per projected batch with its correlation ids, `trace` one per event; `silent` for tests).
 */
import { pino, type DestinationStream, type Logger } from "pino";

export type { Logger };

/**
 * Log lines name people by id, never by email (README, Privacy and erasure): an
 * address anywhere in a line (a message, a field, an error from an SMTP server)
 * is written as "[email]". LOG_PERSONAL_DATA=true keeps them, for debugging.
 */
export const logsPersonalData = () => process.env.LOG_PERSONAL_DATA === "true";
const EMAIL = /[^\s@<>"'(),;:[\]]+@[^\s@<>"'(),;:[\]]+\.[A-Za-z]{2,}/g;

export function redactEmails<T>(value: T, depth = 0): T {
  if (typeof value === "string") return (value.includes("@") ? value.replace(EMAIL, "[email]") : value) as T;
  if (depth > 6 || value === null || typeof value !== "object") return value;
  if (value instanceof Error) {
    const copy = Object.assign(new Error(redactEmails(value.message)), value, { message: redactEmails(value.message) });
    copy.stack = value.stack && redactEmails(value.stack);
    copy.name = value.name;
    return copy as T;
  }
  if (Array.isArray(value)) return value.map((v) => redactEmails(v, depth + 1)) as T;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactEmails(v, depth + 1)])) as T;
}

/** A logger at `level`, writing to stdout or to `destination` (e.g. a bench reading the lines back). */
export function createLogger(level = process.env.LOG_LEVEL ?? "info", destination?: DestinationStream): Logger {
  const redact = !logsPersonalData();
  const options = {
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label: string) => ({ level: label }),
      log: (object: Record<string, unknown>) => (redact ? redactEmails(object) : object),
    },
    hooks: {
      logMethod(this: Logger, args: unknown[], method: (...a: unknown[]) => void) {
        method.apply(this, redact ? args.map((a) => (typeof a === "string" ? redactEmails(a) : a)) : args);
      },
    },
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
