/**
 * Shared helpers for the end-to-end journeys. Seeding goes through the
 * console's own UI (as an admin would), never through the read model; the one
 * exception is `publishExternalEvent`, which plays another service publishing
 * straight to Kafka with a plain kafkajs producer and the documented envelope.
 */
import { randomUUID } from "node:crypto";
import { expect, type Page } from "@playwright/test";
import { Kafka, Partitioners, logLevel } from "kafkajs";

/** A suffix that keeps names unique across runs against the same database. */
export const unique = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

export const nav = (page: Page, name: "Users" | "Roles" | "Activity" | "Health" | "Webhooks") =>
  page.getByRole("navigation", { name: "Main" }).getByRole("link", { name, exact: true });

/**
 * Waits until the page's live-update stream is open: events from now on reach
 * it, and the page is hydrated (client buttons respond).
 */
export async function expectLive(page: Page) {
  await expect(page.locator("[data-live-status]")).toHaveAttribute("data-live-status", "live");
}

/** Opens `url` and waits until the page is hydrated and live. */
export async function open(page: Page, url: string) {
  await page.goto(url);
  await expectLive(page);
}

/** Creates a role from the roles page and returns its id (from the link in the table). */
export async function createRole(page: Page, name: string, description = ""): Promise<string> {
  await open(page, "/roles");
  await page.getByRole("button", { name: "New role" }).click();
  await expect(page.getByLabel("Name")).toBeFocused();
  await page.getByLabel("Name").fill(name);
  if (description) await page.getByLabel("Description").fill(description);
  await page.getByRole("button", { name: "Create role" }).click();
  const link = page.getByRole("table", { name: "Roles" }).getByRole("link", { name, exact: true });
  await expect(link).toBeVisible();
  const href = await link.getAttribute("href");
  const id = href?.split("/").at(-1);
  if (!id) throw new Error(`no link to role ${name}`);
  return id;
}

/** Creates a user from "New user"; the console then shows the user's page. Returns the id. */
export async function createUser(page: Page, email: string, name: string): Promise<string> {
  await open(page, "/users/new");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Name").fill(name);
  await page.getByRole("button", { name: "Create user" }).click();
  await expect(page.getByRole("heading", { name: email })).toBeVisible();
  const id = new URL(page.url()).pathname.split("/").at(-1);
  if (!id) throw new Error(`no user page for ${email}`);
  return id;
}

/** On a user's page: assigns the role by name and waits until it is listed. */
export async function assignRole(page: Page, roleName: string) {
  await page.getByLabel("Role to assign").selectOption({ label: roleName });
  await page.getByRole("button", { name: "Assign role" }).click();
  await expect(page.getByRole("list", { name: "Current roles" })).toContainText(roleName);
}

/** The user's version as the user page shows it ("Version N"). */
export async function shownVersion(page: Page): Promise<number> {
  const text = await page.getByText(/^Version \d+$/).first().textContent();
  const match = /Version (\d+)/.exec(text ?? "");
  if (!match?.[1]) throw new Error(`no "Version N" on ${page.url()}`);
  return Number(match[1]);
}

export interface ExternalEvent {
  type: string;
  aggregateId: string;
  sequence: number;
  payload: Record<string, unknown>;
  actor?: { kind: "service"; name: string } | { kind: "user"; userId: string; email: string; name?: string };
}

/**
 * Publishes one event to `${KAFKA_TOPIC_PREFIX}users` the way another service
 * would: plain kafkajs, key = aggregate id, the documented envelope and headers.
 */
export async function publishExternalEvent(event: ExternalEvent): Promise<string> {
  const id = randomUUID();
  const correlationId = `e2e-external-${id}`;
  const envelope = {
    id,
    type: event.type,
    schemaVersion: 1,
    aggregateId: event.aggregateId,
    sequence: event.sequence,
    occurredAt: new Date().toISOString(),
    actor: event.actor ?? { kind: "service", name: "hr-sync" },
    correlationId,
    causationId: null,
    payload: event.payload,
  };
  await publishToUsersTopic({
    key: event.aggregateId,
    value: JSON.stringify(envelope),
    headers: { type: event.type, schemaVersion: "1", correlationId },
  });
  return id;
}

/** Publishes one message, as given, to `${KAFKA_TOPIC_PREFIX}users` with a plain kafkajs producer (e.g. a malformed one). */
export async function publishToUsersTopic(message: { key: string; value: string; headers?: Record<string, string> }) {
  const brokers = process.env.KAFKA_BROKERS?.split(",").filter(Boolean);
  if (!brokers?.length) throw new Error("KAFKA_BROKERS is not set (npm test passes it to Playwright).");
  const kafka = new Kafka({ clientId: "e2e-external-service", brokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    await producer.send({ topic: `${process.env.KAFKA_TOPIC_PREFIX ?? ""}users`, acks: -1, messages: [message] });
  } finally {
    await producer.disconnect();
  }
}
