/** Signing in, and looking at what reached Kafka (for the security specs). */
import path from "node:path";
import { expect, type Page } from "@playwright/test";
import { Kafka, logLevel } from "kafkajs";

export const ADMIN = {
  email: process.env.ADMIN_EMAIL ?? "",
  password: process.env.ADMIN_PASSWORD ?? "",
};
if (!ADMIN.email || !ADMIN.password) throw new Error("ADMIN_EMAIL / ADMIN_PASSWORD are not set (npm test sets them).");

export const ADMIN_STATE = path.join(import.meta.dirname, "..", "test-results", ".auth", "admin.json");

export async function signIn(page: Page, email: string, password: string) {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).not.toHaveURL(/\/sign-in/);
}

const kafka = () => {
  const brokers = process.env.KAFKA_BROKERS?.split(",").filter(Boolean);
  if (!brokers?.length) throw new Error("KAFKA_BROKERS is not set (npm test passes it to Playwright).");
  return new Kafka({ clientId: "e2e-inspector", brokers, logLevel: logLevel.NOTHING });
};

const prefix = () => process.env.KAFKA_TOPIC_PREFIX ?? "";

/** Every topic of this installation (users, roles and their dead-letter topics). */
async function topics(admin: ReturnType<ReturnType<typeof kafka>["admin"]>): Promise<string[]> {
  return (await admin.listTopics()).filter((t) => t.startsWith(prefix()));
}

/** Sum of the end offsets of every topic: it grows by one per message published anywhere. */
export async function totalEndOffset(): Promise<number> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    let total = 0;
    for (const topic of await topics(admin)) {
      for (const p of await admin.fetchTopicOffsets(topic)) total += Number(p.high);
    }
    return total;
  } finally {
    await admin.disconnect();
  }
}

/** Every message (key, value and headers as text) on every topic of this installation. */
export async function readAllMessages(): Promise<string[]> {
  const k = kafka();
  const admin = k.admin();
  await admin.connect();
  const ends = new Map<string, number>();
  let names: string[];
  try {
    names = await topics(admin);
    for (const topic of names) {
      for (const p of await admin.fetchTopicOffsets(topic)) {
        if (Number(p.high) > Number(p.low)) ends.set(`${topic}/${p.partition}`, Number(p.high));
      }
    }
  } finally {
    await admin.disconnect();
  }
  const texts: string[] = [];
  if (ends.size === 0) return texts;
  const consumer = k.consumer({ groupId: `e2e-scan-${Date.now()}-${Math.random().toString(36).slice(2)}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: names, fromBeginning: true });
    const pending = new Set(ends.keys());
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`scan incomplete: ${[...pending].join(", ")}`)), 60_000);
      consumer
        .run({
          eachMessage: async ({ topic, partition, message }) => {
            const headers = Object.entries(message.headers ?? {}).map(([k, v]) => `${k}=${String(v)}`);
            texts.push([message.key?.toString() ?? "", message.value?.toString() ?? "", ...headers].join("\n"));
            const id = `${topic}/${partition}`;
            if (Number(message.offset) + 1 >= (ends.get(id) ?? 0)) pending.delete(id);
            if (pending.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return texts;
}
