/**
 * Webhooks: an admin creates one for a receiver running in this test process,
 * copies its secret (shown once), sends a test event, and sees the delivery in
 * the webhook's log; the receiver got it signed with that secret.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { expect, test } from "@playwright/test";
import { Webhook } from "standardwebhooks";
import { ADMIN } from "./auth-helpers";
import { nav, open, unique } from "./fixtures";

test.describe.configure({ timeout: 90_000 });

let receiver: Server;
let url: string;
const received: { headers: IncomingHttpHeaders; body: string }[] = [];

test.beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(200, { "content-type": "text/plain" }).end("received");
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/${unique()}`;
});

test.afterAll(async () => {
  await new Promise((resolve) => receiver.close(resolve));
});

test("create a webhook, send a test event, see it in the delivery log", async ({ page }) => {
  await open(page, "/users");
  await nav(page, "Webhooks").click();
  await page.getByRole("link", { name: "New webhook" }).click();
  await page.getByLabel("URL").fill(url);
  await page.getByLabel("A selection").check();
  await page.getByLabel("UserCreated").check();
  await page.getByLabel("RoleCreated").check();
  await page.getByLabel("Description").fill("e2e receiver");
  await page.getByRole("button", { name: "Create webhook" }).click();

  const secretField = page.getByLabel("Signing secret");
  await expect(secretField).toHaveValue(/^whsec_/);
  const secret = await secretField.inputValue();
  await page.getByRole("link", { name: "Open the webhook" }).click();
  await expect(page.getByRole("heading", { name: url, level: 1 })).toBeVisible();
  const history = page.getByRole("table", { name: "History" });
  const created = history.getByRole("row").filter({ hasText: "created" }).filter({ hasText: ADMIN.email });
  await expect(created.filter({ hasText: `${url}; RoleCreated, UserCreated` })).toHaveCount(1);

  await page.getByRole("button", { name: "Send test event" }).click();
  await expect(page.getByRole("status").filter({ hasText: /Test event .* queued/ })).toBeVisible();
  const log = page.getByRole("table", { name: "Delivery log" });
  const row = log.getByRole("row").filter({ hasText: "WebhookTest" });
  await expect(row).toHaveCount(1);
  await expect(row.getByText("200", { exact: true })).toBeVisible();
  await expect(row.getByText("received")).toBeVisible();
  await expect(history.getByRole("row").filter({ hasText: "test event sent" })).toHaveCount(1);

  // The receiver checks the request as any Standard Webhooks receiver would.
  expect(received).toHaveLength(1);
  const { body, headers } = received[0]!;
  const event = new Webhook(secret).verify(body, headers as Record<string, string>) as { id: string; type: string };
  expect(event.type).toBe("WebhookTest");
  expect(headers["webhook-id"]).toBe(event.id);
  await page.screenshot({ path: "test-results/screenshots/webhook.png", fullPage: true });
});
