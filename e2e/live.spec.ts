/**
 * Live updates from outside the console: another service publishes a
 * UserUpdated straight to Kafka; the projector applies it, PostgreSQL notifies
 * the console, and pages already open in the browser show it within about a
 * second, without a reload.
 */
import { expect, test } from "@playwright/test";
import { createRole, createUser, expectLive, open, publishExternalEvent, shownVersion, unique } from "./fixtures";

// Whole journeys across several pages, each step waiting for Kafka and the projector.
test.describe.configure({ timeout: 120_000 });

const markPage = (page: import("@playwright/test").Page) =>
  page.evaluate(() => ((window as unknown as { e2eMarker: string }).e2eMarker = "no reload"));
const expectNotReloaded = async (page: import("@playwright/test").Page) =>
  expect(await page.evaluate(() => (window as unknown as { e2eMarker?: string }).e2eMarker)).toBe("no reload");

test("an event published straight to Kafka appears on an open user page and the users list", async ({ page, context }) => {
  const id = unique();
  const email = `hopper.${id}@example.com`;
  const userId = await createUser(page, email, "Grace Hopper");
  const version = await shownVersion(page);

  const list = await context.newPage();
  await open(list, `/users?q=${encodeURIComponent(email)}`);
  await expect(list.getByRole("link", { name: email })).toBeVisible();

  for (const p of [page, list]) {
    await expectLive(p);
    await markPage(p);
  }

  const newName = `Rear Admiral Hopper ${id}`;
  await publishExternalEvent({
    type: "UserUpdated",
    aggregateId: userId,
    sequence: version + 1,
    payload: { name: newName },
    actor: { kind: "service", name: "hr-sync" },
  });

  // "About a second": generous for a loaded CI machine, far below any polling fallback.
  await expect(page.getByText(`Version ${version + 1}`, { exact: true })).toBeVisible({ timeout: 5_000 });
  await expect(page.getByRole("main").getByText(newName, { exact: true }).first()).toBeVisible();
  const timeline = page.getByRole("list", { name: "Timeline" });
  await expect(timeline.getByRole("listitem").first()).toContainText("UserUpdated", { timeout: 5_000 });
  await expect(timeline.getByRole("listitem").first()).toContainText("hr-sync");

  await expect(list.getByRole("row").filter({ hasText: email })).toContainText(newName, { timeout: 5_000 });
  await expectNotReloaded(page);
  await expectNotReloaded(list);
});

test("an open roles list and role page follow changes made elsewhere", async ({ page, context }) => {
  const id = unique();
  const roleName = `Reviewers ${id}`;
  const roleId = await createRole(page, roleName);
  const rolePage = await context.newPage();
  await open(rolePage, `/roles/${roleId}`);
  for (const p of [page, rolePage]) {
    await expectLive(p);
    await markPage(p);
  }

  // Another admin, in another tab, gives the role to a new user.
  const admin = await context.newPage();
  const email = `reviewer.${id}@example.com`;
  await createUser(admin, email, "Rita Reviewer");
  await admin.getByLabel("Role to assign").selectOption({ label: roleName });
  await admin.getByRole("button", { name: "Assign role" }).click();

  const row = page.getByRole("table", { name: "Roles" }).getByRole("row").filter({ hasText: roleName });
  await expect(row.getByRole("cell").nth(2)).toHaveText("1", { timeout: 5_000 });
  await expect(rolePage.getByRole("region", { name: /^Members\b/ }).getByRole("link", { name: email })).toBeVisible({
    timeout: 5_000,
  });
  await expectNotReloaded(page);
  await expectNotReloaded(rolePage);
  await admin.close();
});
