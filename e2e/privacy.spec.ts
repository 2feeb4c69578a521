/**
 * Erasure as an administrator does it (issue 12): "Erase personal data" on a
 * user's page, the user's email typed into "Email to confirm", then "Erase
 * permanently". Afterwards the user's page, the timeline, the users list and
 * the activity feed show "[erased]" and never the email or the name.
 */
import { expect, test } from "@playwright/test";
import { assignRole, createUser, open, unique } from "./fixtures";

test("an admin erases a person's personal data; every page then shows [erased]", async ({ page }) => {
  const suffix = unique();
  const email = `erase-me-${suffix}@example.com`;
  const name = `Erasable Person ${suffix}`;
  const userId = await createUser(page, email, name);
  await assignRole(page, "viewer");
  await page.getByLabel("Name").fill(`${name} Jr`);
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByText(`${name} Jr`).first()).toBeVisible();

  await page.getByRole("button", { name: "Erase personal data" }).click();
  await page.getByLabel("Email to confirm").fill(`someone-else-${suffix}@example.com`);
  await page.getByLabel("Reason").fill("GDPR request, ticket 42");
  await page.getByRole("button", { name: "Erase permanently" }).click();
  await expect(page.getByText("Type this user's email exactly as shown to confirm.")).toBeVisible();

  await page.getByLabel("Email to confirm").fill(email);
  await page.getByRole("button", { name: "Erase permanently" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Personal data erased" })).toBeVisible();

  await open(page, `/users/${userId}`);
  await expect(page.getByRole("heading", { name: "[erased]" })).toBeVisible();
  await expect(page.getByRole("status").filter({ hasText: "personal data was erased" })).toBeVisible();
  const timeline = page.getByRole("list", { name: "Timeline" });
  await expect(timeline).toContainText("erased");
  await expect(timeline).toContainText("viewer");
  await expect(page.locator("body")).not.toContainText(email);
  await expect(page.locator("body")).not.toContainText(name);
  await expect(page.getByRole("button", { name: "Erase personal data" })).toHaveCount(0);

  await open(page, `/users?q=${encodeURIComponent(`erase-me-${suffix}`)}&status=all`);
  await expect(page.locator("main")).not.toContainText(email);
  await open(page, "/activity");
  await expect(page.locator("main")).not.toContainText(email);
  await expect(page.locator("main")).not.toContainText(name);
});
