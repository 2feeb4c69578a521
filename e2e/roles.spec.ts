/**
 * Roles, whole journeys: create → rename (the role's history shows before →
 * after) → conflicting edits; and deleting a role a user holds (the
 * confirmation counts the members, and the member's timeline records it); a
 * deletion that stopped midway, shown with its progress and finished by
 * deleting again.
 */
import { ADMIN } from "./auth-helpers";
import { expect, test } from "@playwright/test";
import pg from "pg";
import { assignRole, createRole, createUser, nav, open, unique } from "./fixtures";

// Whole journeys across several pages, each step waiting for Kafka and the projector.
test.describe.configure({ timeout: 120_000 });

test("create a role, rename it, and read the rename in its history", async ({ page }) => {
  const id = unique();
  const name = `Editors ${id}`;
  const renamed = `Publishers ${id}`;

  await page.goto("/");
  await nav(page, "Roles").click();
  await expect(page.getByRole("heading", { name: "Roles", level: 1 })).toBeVisible();
  await createRole(page, name, "Can edit content");

  const row = page.getByRole("table", { name: "Roles" }).getByRole("row").filter({ hasText: name });
  await expect(row).toContainText("Can edit content");
  await expect(row.getByRole("cell").nth(2)).toHaveText("0"); // members
  await page.screenshot({ path: "test-results/screenshots/roles.png", fullPage: true });

  await row.getByRole("link", { name }).click();
  await expect(page.getByRole("heading", { name, level: 1 })).toBeVisible();
  const history = page.getByRole("list", { name: "History" });
  await expect(history.getByRole("listitem")).toHaveCount(1);
  await expect(history.getByRole("listitem").first()).toContainText("RoleCreated");

  await page.getByLabel("Name").fill(renamed);
  await page.getByLabel("Description").fill("Can edit and publish content");
  await page.getByRole("button", { name: "Save changes" }).click();

  await expect(page.getByRole("heading", { name: renamed, level: 1 })).toBeVisible();
  await expect(page.getByText("Version 2", { exact: true })).toBeVisible();
  await expect(history.getByRole("listitem")).toHaveCount(2);
  const update = history.getByRole("listitem").first();
  await expect(update).toContainText("RoleUpdated");
  await expect(update.getByRole("definition").filter({ hasText: renamed })).toHaveText(`${name} → ${renamed}`);
  await expect(update.getByRole("definition").filter({ hasText: "Can edit content" })).toHaveText(
    "Can edit content → Can edit and publish content",
  );
  await expect(update).toContainText(`by ${ADMIN.email}`);

  await nav(page, "Roles").click();
  await expect(page.getByRole("table", { name: "Roles" }).getByRole("link", { name: renamed, exact: true })).toBeVisible();
  await expect(page.getByRole("table", { name: "Roles" }).getByRole("link", { name, exact: true })).toHaveCount(0);
});

test("an edit based on an old version is refused as changed by someone else", async ({ page, context }) => {
  const name = `Auditors ${unique()}`;
  const roleId = await createRole(page, name);
  await open(page, `/roles/${roleId}`);
  const other = await context.newPage();
  await open(other, `/roles/${roleId}`);

  // The first admin starts typing, then the second one saves first.
  await page.getByLabel("Name").fill(`${name} (mine)`);
  await other.getByLabel("Name").fill(`${name} (theirs)`);
  await other.getByRole("button", { name: "Save changes" }).click();
  await expect(other.getByRole("heading", { name: `${name} (theirs)`, level: 1 })).toBeVisible();

  // The first page hears about it live, but keeps the version it was editing from.
  await expect(page.getByRole("heading", { name: `${name} (theirs)`, level: 1 })).toBeVisible();
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByRole("region", { name: "Details" }).getByRole("alert")).toContainText("changed by someone else");
  await page.getByRole("link", { name: "Reload the latest version" }).click();
  await expect(page.getByLabel("Name")).toHaveValue(`${name} (theirs)`);
  await other.close();
});

test("deleting a role a user holds says who loses it and records it in the user's timeline", async ({ page }) => {
  const id = unique();
  const roleName = `Support ${id}`;
  const email = `lin.${id}@example.com`;

  const roleId = await createRole(page, roleName, "Answers tickets");
  const userId = await createUser(page, email, "Lin Support");
  await assignRole(page, roleName);

  await open(page, `/roles/${roleId}`);
  const members = page.getByRole("region", { name: /^Members\b/ });
  await expect(members.getByRole("link", { name: email })).toHaveAttribute("href", `/users/${userId}`);
  await page.screenshot({ path: "test-results/screenshots/role.png", fullPage: true });

  await page.getByRole("button", { name: `Delete role ${roleName}` }).click();
  const confirm = page.getByRole("group", { name: `Confirm: Delete role ${roleName}` });
  await expect(confirm).toContainText("1 user will lose this role.");
  await confirm.getByRole("button", { name: "Yes, delete role" }).click();

  await expect(page.getByRole("status").filter({ hasText: "This role was deleted" })).toBeVisible();
  await expect(page.getByRole("list", { name: "History" }).getByRole("listitem").first()).toContainText("RoleDeleted");
  await expect(members).toContainText("Nobody: the role was deleted.");

  await page.goto(`/users/${userId}`);
  const removal = page.getByRole("list", { name: "Timeline" }).getByRole("listitem").filter({ hasText: "RoleUnassignedFromUser" });
  await expect(removal).toHaveCount(1);
  await expect(removal).toContainText(roleName);

  await nav(page, "Roles").click();
  await expect(page.getByRole("table", { name: "Roles" }).getByRole("link", { name: roleName })).toHaveCount(0);

  // The whole story, newest first, in the activity feed.
  await nav(page, "Activity").click();
  const rows = page.getByRole("table", { name: "Activity" }).locator("tbody tr");
  await expect(rows.nth(0)).toContainText("RoleDeleted");
  await expect(rows.nth(1)).toContainText("RoleUnassignedFromUser");
  await expect(rows.nth(1)).toContainText(roleName);
  await expect(rows.nth(1)).toContainText("(role deleted)");
  await page.screenshot({ path: "test-results/screenshots/activity-after-delete.png", fullPage: true });
});

test("a deletion that stopped midway shows its progress, keeps the role closed, and deleting again finishes it", async ({ page }) => {
  const id = unique();
  const roleName = `Night shift ${id}`;
  const email = `sam.${id}@example.com`;
  const roleId = await createRole(page, roleName);
  const userId = await createUser(page, email, "Sam Night");
  await assignRole(page, roleName);
  const otherId = await createUser(page, `kim.${id}@example.com`, "Kim Day");

  // A deletion whose run stopped before any member lost the role, as the command side records one
  // when Kafka stops answering (the end-to-end stack cannot lose its broker on demand).
  const db = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
  try {
    await db.query(
      `INSERT INTO role_deletions (role_id, correlation_id, total, done, error, updated_at)
       VALUES ($1, $2, 1, 0, 'The event store (Kafka) did not acknowledge the change, so it was not saved: timeout', now() - interval '1 minute')`,
      [roleId, `e2e-${id}`],
    );
  } finally {
    await db.end();
  }

  await open(page, `/roles/${roleId}`);
  const progress = page.getByRole("progressbar", { name: "Role deletion progress" });
  await expect(progress).toHaveAttribute("aria-valuetext", "0 of 1 members");
  await expect(page.getByRole("status").filter({ hasText: "Deletion stopped: 0 of 1 members have lost the role" })).toBeVisible();
  await expect(page.getByRole("alert").filter({ hasText: "delete it again to finish" })).toContainText("did not acknowledge");

  // Closed to new members meanwhile.
  await open(page, `/users/${otherId}`);
  await page.getByLabel("Role to assign").selectOption({ label: roleName });
  await page.getByRole("button", { name: "Assign role" }).click();
  await expect(page.getByText("This role is being deleted.")).toBeVisible();

  await open(page, `/roles/${roleId}`);
  await page.getByRole("button", { name: `Delete role ${roleName}` }).click();
  await page.getByRole("group", { name: `Confirm: Delete role ${roleName}` }).getByRole("button", { name: "Yes, delete role" }).click();
  await expect(page.getByRole("status").filter({ hasText: "This role was deleted" })).toBeVisible();
  await expect(page.getByRole("progressbar", { name: "Role deletion progress" })).toHaveCount(0);

  await page.goto(`/users/${userId}`);
  const removal = page.getByRole("list", { name: "Timeline" }).getByRole("listitem").filter({ hasText: "RoleUnassignedFromUser" });
  await expect(removal).toHaveCount(1);
});
