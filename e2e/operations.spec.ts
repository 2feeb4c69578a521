/**
 * Operations: the health page shows the running projector, the notifiers and
 * the topics, nothing stalled; /api/health and /api/ready answer; a
 * malformed message another service publishes straight to Kafka shows up on
 * the dead-letters page (live), with its reason and payload, and is discarded.
 */
import { expect, test } from "@playwright/test";
import { ADMIN } from "./auth-helpers";
import { expectLive, nav, open, publishToUsersTopic, unique } from "./fixtures";

test.describe.configure({ timeout: 120_000 });

test("health shows the projector and topics; a dead letter published through Kafka is listed and discarded", async ({ page }) => {
  await open(page, "/users");
  await nav(page, "Health").click();
  await expect(page.getByRole("heading", { name: "Health", level: 1 })).toBeVisible();
  const instances = page.getByRole("table", { name: "Projector instances" });
  await expect(instances.getByRole("row").filter({ hasText: "alive" })).toHaveCount(1);
  await expect(page.getByRole("region", { name: /^Topic .*users$/ })).toBeVisible();
  await expect(page.getByRole("region", { name: /^Topic .*roles$/ })).toBeVisible();
  await expect(page.getByRole("img", { name: /Events per minute/ })).toBeVisible();
  // The notifiers' groups are listed; on a healthy stack nothing is stalled or crashed.
  const notifiers = page.getByRole("table", { name: "Notifiers" });
  await expect(notifiers.getByRole("rowheader", { name: "notifier-email" })).toBeVisible();
  await expect(notifiers.getByRole("rowheader", { name: "notifier-slack" })).toBeVisible();
  await expect(page.getByRole("region", { name: "Stalled partitions" })).toHaveCount(0);
  await expect(instances.getByText("crashed")).toHaveCount(0);
  await page.screenshot({ path: "test-results/screenshots/health.png", fullPage: true });

  await page.getByRole("link", { name: "Dead letters" }).click();
  await expect(page.getByRole("heading", { name: "Dead letters", level: 1 })).toBeVisible();
  await expectLive(page);

  // Another service gets the envelope wrong; the page is already open and hears about it live.
  const key = `broken-${unique()}`;
  await publishToUsersTopic({
    key,
    value: JSON.stringify({ type: "UserCreated", payload: { email: "nobody" }, oops: true }),
    headers: { correlationId: `e2e-${key}` },
  });
  const table = page.getByRole("table", { name: "Dead letters" });
  const row = table.getByRole("row").filter({ hasText: key });
  await expect(row).toContainText("invalid envelope");
  await expect(row).toContainText("open");
  await row.getByText("Payload and headers").click();
  await expect(row.getByText('"oops": true')).toBeVisible();
  await expect(row.getByText(`e2e-${key}`)).toBeVisible();
  await page.screenshot({ path: "test-results/screenshots/dead-letters.png", fullPage: true });

  await row.getByRole("button", { name: /^Discard / }).click();
  await row.getByRole("button", { name: "Yes, discard" }).click();
  await expect(page.getByRole("status")).toContainText("Discarded");
  await expect(row).toHaveCount(0); // no longer open

  await page.getByRole("navigation", { name: "Status" }).getByRole("link", { name: /^Discarded/ }).click();
  const handled = page.getByRole("table", { name: "Dead letters" }).getByRole("row").filter({ hasText: key });
  await expect(handled).toContainText("discarded");
  await expect(handled).toContainText(`by ${ADMIN.email}`); // the signed-in operator
  await expect(handled.getByRole("button", { name: /Retry|Discard/ })).toHaveCount(0);
});

test("liveness answers up, and readiness answers ready once the projector is current", async ({ request }) => {
  const live = await request.get("/api/health");
  expect(live.status()).toBe(200);
  expect(await live.json()).toEqual({ status: "up" });
  // Projection is asynchronous: ready within the stall time at most on an idle stack.
  await expect.poll(async () => (await request.get("/api/ready")).status(), { timeout: 60_000 }).toBe(200);
  const ready = await request.get("/api/ready");
  expect(ready.headers()["cache-control"]).toContain("no-store");
  expect(await ready.json()).toMatchObject({ status: "ready", liveProjectors: expect.any(Number), lag: expect.any(Number) });
});

test("a rebuild asked for on the health page runs in the projector worker and switches, while the pages keep working", async ({ page }) => {
  await open(page, "/health");
  const card = page.getByRole("region", { name: "Read-model rebuild" });
  await card.getByRole("button", { name: "Rebuild read model" }).click();
  await card.getByRole("button", { name: "Yes, rebuild" }).click();
  // The request shows at once; a projector worker claims it and the bar follows it (the page refreshes every 2 s).
  await expect(card.getByText(/Rebuild #\d+/).first()).toBeVisible();
  const latest = card.getByRole("listitem").first();
  await expect(latest.getByText("switched", { exact: true })).toBeVisible({ timeout: 90_000 });
  await expect(latest).toContainText(/Switched: [\d,]+ rows in \d+ tables, equal to the live model at [\d,]+ messages\./);
  await expect(latest).toContainText(/New events waited [\d,]+ ms for the swap\./);
  await expect(latest).toContainText(`asked for by ${ADMIN.email}`);
  await latest.getByText("Per-table comparison at the switch offsets").click();
  const comparison = latest.getByRole("table", { name: "Live and rebuilt tables compared" });
  // One row per read-model table, every one equal.
  await expect(comparison.getByRole("row").filter({ hasText: "equal" }).first()).toBeVisible();
  await expect(comparison.getByRole("row").filter({ hasText: "differs" })).toHaveCount(0);
  for (const table of ["users", "user_events", "role_events", "personal_data_in_clear", "projection_offsets"]) {
    await expect(comparison.getByRole("row").filter({ hasText: table }).first()).toContainText("equal");
  }
  await page.screenshot({ path: "test-results/screenshots/rebuild.png", fullPage: true });

  // The console reads the new tables: the users page and a user's timeline still answer.
  await nav(page, "Users").click();
  await expect(page.getByRole("heading", { name: "Users", level: 1 })).toBeVisible();
  await expect(page.getByRole("table").getByRole("row").nth(1)).toBeVisible();
});
