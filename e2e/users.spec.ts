/**
 * The spine, in a browser: create a user in the console, find it in the list,
 * open it, and read UserCreated in its timeline (Kafka → projector → page).
 */
import { expect, test } from "@playwright/test";

test("create a user, see it in the list, open it, see UserCreated in its timeline", async ({ page }) => {
  const email = `grace.${Date.now()}@example.com`;

  await page.goto("/");
  await page.getByRole("navigation").getByRole("link", { name: "Users", exact: true }).click();
  await page.getByRole("link", { name: "New user", exact: true }).click();
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Name").fill("Grace Hopper");
  await page.getByRole("button", { name: "Create user" }).click();

  // After the action the console shows the user's page (read-your-writes).
  await expect(page.getByRole("heading", { name: email })).toBeVisible();
  await expect(page.getByText("Grace Hopper").first()).toBeVisible();
  const timeline = page.getByRole("list", { name: "Timeline" });
  await expect(timeline.getByRole("listitem")).toHaveCount(1);
  await expect(timeline.getByRole("listitem").first()).toContainText("UserCreated");
  await expect(timeline.getByRole("listitem").first()).toContainText(email);

  await page.getByRole("navigation").getByRole("link", { name: "Users", exact: true }).click();
  const table = page.getByRole("table");
  await expect(table.getByRole("columnheader", { name: "Email" })).toBeVisible();
  const row = table.getByRole("row").filter({ hasText: email });
  await expect(row).toHaveCount(1);
  await expect(row).toContainText("Grace Hopper");
  await page.screenshot({ path: "test-results/screenshots/users.png", fullPage: true });

  await row.getByRole("link", { name: email }).click();
  await expect(page.getByRole("heading", { name: email })).toBeVisible();
  await expect(page.getByRole("list", { name: "Timeline" })).toContainText("UserCreated");
  await page.screenshot({ path: "test-results/screenshots/user-timeline.png", fullPage: true });
});

test("shows field errors inline and creates nothing for invalid input", async ({ page }) => {
  await page.goto("/users/new");
  await page.getByLabel("Email").fill("not-an-email");
  await page.getByLabel("Name").fill("   ");
  await page.getByRole("button", { name: "Create user" }).click();
  await expect(page.getByText("Enter a valid email address.")).toBeVisible();
  await expect(page.getByText("Name is required.")).toBeVisible();
  await expect(page).toHaveURL(/\/users\/new$/);
});
