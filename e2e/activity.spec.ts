/**
 * The activity feed: every event of users and roles, newest first, filters in
 * the URL, and new events arriving while it is open.
 */
import { expect, test } from "@playwright/test";
import { ADMIN } from "./auth-helpers";
import { createRole, createUser, nav, open, unique } from "./fixtures";

// Whole journeys across several pages, each step waiting for Kafka and the projector.
test.describe.configure({ timeout: 120_000 });

test("the feed lists events of both streams, links them, and filters by type and actor", async ({ page }) => {
  const id = unique();
  const roleName = `Billing ${id}`;
  const email = `ada.${id}@example.com`;
  const roleId = await createRole(page, roleName, "Sees invoices");
  const userId = await createUser(page, email, "Ada Billing");

  await nav(page, "Activity").click();
  await expect(page.getByRole("heading", { name: "Activity", level: 1 })).toBeVisible();
  const feed = page.getByRole("table", { name: "Activity" });
  const rows = feed.locator("tbody tr");
  // Newest first: the user was created after the role.
  await expect(rows.first()).toContainText("UserCreated");
  await expect(rows.first().getByRole("link", { name: email })).toHaveAttribute("href", `/users/${userId}`);
  const roleRow = rows.filter({ hasText: "RoleCreated" }).filter({ hasText: roleName });
  await expect(roleRow.getByRole("link", { name: roleName })).toHaveAttribute("href", `/roles/${roleId}`);
  // The actor is the signed-in admin, by name and email.
  await expect(roleRow).toContainText(ADMIN.email);
  await page.screenshot({ path: "test-results/screenshots/activity.png", fullPage: true });

  await page.getByLabel("Type").selectOption("RoleCreated");
  await page.getByRole("button", { name: "Apply filters" }).click();
  await expect(page).toHaveURL(/[?&]type=RoleCreated/);
  await expect(rows.filter({ hasText: "UserCreated" })).toHaveCount(0);
  await expect(rows.filter({ hasText: roleName })).toHaveCount(1);
  for (const badge of await rows.locator("td:nth-child(2)").allTextContents()) expect(badge).toBe("RoleCreated");

  // The URL holds the filters: a reload (or a shared link) shows the same feed.
  await page.reload();
  await expect(page.getByLabel("Type")).toHaveValue("RoleCreated");
  await expect(rows.filter({ hasText: roleName })).toHaveCount(1);

  await page.getByLabel("Type").selectOption("");
  await page.getByLabel("Actor").fill("nobody-such-service");
  await page.getByRole("button", { name: "Apply filters" }).click();
  await expect(page).toHaveURL(/[?&]actor=nobody-such-service/);
  await expect(feed).toContainText("No events match these filters.");

  await page.getByLabel("Actor").fill(ADMIN.email.slice(0, 6));
  await page.getByLabel("From (UTC)").fill("2000-01-01T00:00");
  await page.getByRole("button", { name: "Apply filters" }).click();
  await expect(page).toHaveURL(/[?&]from=2000-01-01T00%3A00/);
  await expect(rows.filter({ hasText: email })).toHaveCount(1);

  await page.getByLabel("To (UTC)").fill("2000-01-02T00:00");
  await page.getByRole("button", { name: "Apply filters" }).click();
  await expect(feed).toContainText("No events match these filters.");

  await page.getByRole("link", { name: "Clear" }).click();
  await expect(page).toHaveURL(/\/activity$/);
  await expect(page.getByLabel("Actor")).toHaveValue("");
  await expect(rows.first()).toContainText("UserCreated");
});

test("an open feed shows a new event without a reload", async ({ page, context }) => {
  await open(page, "/activity");
  await page.evaluate(() => ((window as unknown as { e2eMarker: string }).e2eMarker = "still here"));

  const roleName = `Ops ${unique()}`;
  const admin = await context.newPage();
  await createRole(admin, roleName);

  const feed = page.getByRole("table", { name: "Activity" });
  await expect(feed.locator("tbody tr").first()).toContainText(roleName, { timeout: 5_000 });
  expect(await page.evaluate(() => (window as unknown as { e2eMarker?: string }).e2eMarker)).toBe("still here");
  await admin.close();
});
