/**
 * Runs first-start access set-up (./bootstrap.ts) when the console
 * process starts (instrumentation.ts), retrying while Kafka or PostgreSQL are
 * not there yet. Readiness (/api/health) waits for it. State on globalThis:
 * instrumentation and route handlers are bundled separately.
 */
import { isDomainError } from "@/lib/errors";
import { getLogger } from "@/lib/log";
import { getCommandDeps, getKafkaConfig } from "@/lib/runtime";
import { bootstrapAccess } from "./bootstrap";

const g = globalThis as typeof globalThis & { __accessReady?: boolean };

export const accessReady = () => g.__accessReady === true;

const log = (level: "info" | "warn" | "fatal", msg: string, extra: Record<string, unknown> = {}) =>
  getLogger().child({ component: "access-bootstrap" })[level](extra, msg);

export async function runAccessBootstrap(): Promise<void> {
  const consoleUrl = process.env.CONSOLE_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`;
  for (let attempt = 1; ; attempt++) {
    try {
      const outcome = await bootstrapAccess(getCommandDeps(), {
        adminEmail: process.env.ADMIN_EMAIL || undefined,
        adminPassword: process.env.ADMIN_PASSWORD || undefined,
        adminName: process.env.ADMIN_NAME || undefined,
        consoleUrl,
        projectorGroup: getKafkaConfig().PROJECTOR_GROUP_ID,
      });
      if (outcome.kind === "admin-created") log("info", `first administrator created: ${outcome.email} (from ADMIN_EMAIL)`);
      if (outcome.kind === "setup-link") {
        // Printed plainly (not only as JSON) so whoever started the console sees it.
        console.log(
          `\n  No administrator yet. Open this one-time link to create the first one (valid until ${outcome.expiresAt.toISOString()}):\n\n    ${outcome.url}\n`,
        );
      }
      g.__accessReady = true;
      return;
    } catch (error) {
      if (isDomainError(error) && error.code === "validation") {
        // A bad ADMIN_EMAIL / ADMIN_PASSWORD will not fix itself: say so once; readiness stays down.
        log("fatal", `ADMIN_EMAIL / ADMIN_PASSWORD refused: ${error.message}`, { fieldErrors: error.fieldErrors });
        return;
      }
      const delay = Math.min(30_000, 1_000 * 2 ** Math.min(attempt, 5));
      log("warn", "access bootstrap failed; retrying", { attempt, delayMs: delay, error: String(error) });
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
