/**
 * The users list and the edit form under pressure: search and role filter
 * (state in the URL), bulk role assignment with progress and a per-user
 * result, a bulk delete where one user changed meanwhile (the others still
 * succeed), a conflicting edit from two pages, inline validation errors.
 */
import { expect, test } from "@playwright/test";
import { createRole, createUser, screenshot, stamp } from "./users-helpers";

test("search, bulk-assign a role, filter by role, bulk delete with one conflict", async ({ page, context }) => {
  test.setTimeout(150_000); // a long journey: four creates, two bulk runs of one command per user, a second page
  const s = stamp();
  const roleName = `Reviewers ${s}`;
  await createRole(page, roleName);
  const people = [
    { email: `bulk.${s}.ann@example.com`, name: "Ann Bulk" },
    { email: `bulk.${s}.bob@example.com`, name: "Bob Bulk" },
    { email: `bulk.${s}.cid@example.com`, name: "Cid Bulk" },
  ];
  const ids: string[] = [];
  for (const p of people) ids.push(await createUser(page, p.email, p.name));

  // Search (case-insensitive prefix) — typed in the form, kept in the URL.
  await page.goto("/users");
  await page.getByLabel("Search").fill(`BULK.${s}`);
  await page.getByRole("button", { name: "Apply filters" }).click();
  await expect(page).toHaveURL(new RegExp(`q=BULK.${s}`));
  const table = page.getByRole("table", { name: "Users" });
  await expect(table.getByRole("columnheader", { name: "Email" })).toBeVisible();
  await expect(table.getByRole("row")).toHaveCount(4); // header + 3
  await expect(page.getByText("3 users", { exact: true })).toBeVisible();

  // Bulk: select all on this page, assign the role to each.
  const bulk = page.getByRole("region", { name: "Bulk actions" });
  await expect(async () => {
    await page.getByRole("checkbox", { name: "Select all on this page" }).check();
    await expect(bulk.getByText("3 selected")).toBeVisible({ timeout: 1_000 });
  }).toPass();
  for (const p of people) await expect(page.getByRole("checkbox", { name: `Select ${p.email}` })).toBeChecked();
  await bulk.getByLabel("Role for selected users").selectOption({ label: roleName });
  await bulk.getByRole("button", { name: "Assign role", exact: true }).click();
  const result = page.getByRole("status", { name: "Bulk result" });
  await expect(result).toContainText(`Assigned role ${roleName}: 3 of 3 succeeded.`);
  for (const p of people) await expect(page.getByRole("list", { name: `Roles of ${p.email}` })).toContainText(roleName);

  // Role filter (and a reload keeps the whole state).
  await page.goto("/users");
  await page.getByLabel("Role", { exact: true }).selectOption({ label: roleName });
  await page.getByRole("button", { name: "Apply filters" }).click();
  await expect(page).toHaveURL(/role=/);
  await expect(table.getByRole("row")).toHaveCount(4);
  await page.reload();
  await expect(page.getByLabel("Role", { exact: true })).toHaveValue(/.+/);
  await expect(table.getByRole("row")).toHaveCount(4);
  await page.getByLabel("Search").fill(`bulk.${s}.b`);
  await page.getByRole("button", { name: "Apply filters" }).click();
  await expect(table.getByRole("row")).toHaveCount(2);
  await expect(table.getByRole("row").nth(1)).toContainText(people[1]!.email);
  await expect(page.getByText("1 user", { exact: true })).toBeVisible();
  // A LIKE wildcard is taken literally.
  await page.getByLabel("Search").fill(`bulk.${s}%`);
  await page.getByRole("button", { name: "Apply filters" }).click();
  await expect(page.getByText("No users match")).toBeVisible();
  await page.getByRole("link", { name: "Clear filters" }).first().click();
  await expect(page).toHaveURL(/\/users$/);

  // Bulk delete where Bob changes after the admin selected him: Ann and Cid go, Bob is reported.
  await page.goto(`/users?q=bulk.${s}&sort=name`);
  await expect(table.getByRole("row").nth(1)).toContainText(people[0]!.email); // by name: Ann, Bob, Cid
  await expect(async () => {
    await page.getByRole("checkbox", { name: "Select all on this page" }).check();
    await expect(bulk.getByText("3 selected")).toBeVisible({ timeout: 1_000 });
  }).toPass();
  const other = await context.newPage();
  await other.goto(`/users/${ids[1]}`);
  await other.getByLabel("Name").fill("Bob Changed");
  await other.getByRole("button", { name: "Save changes" }).click();
  await expect(other.getByText("Changes saved.")).toBeVisible();
  await other.close();

  await bulk.getByRole("button", { name: "Delete users" }).click();
  await bulk.getByRole("button", { name: "Yes, delete 3 users" }).click();
  await expect(result).toContainText("Deleted users: 2 of 3 succeeded, 1 failed.");
  const failed = result.getByRole("list", { name: "Failed users" });
  await expect(failed.getByRole("listitem")).toHaveCount(1);
  await expect(failed).toContainText(people[1]!.email);
  await expect(failed).toContainText("changed by someone else");
  const succeeded = result.getByRole("list", { name: "Succeeded users" });
  await expect(succeeded).toContainText(people[0]!.email);
  await expect(succeeded).toContainText(people[2]!.email);
  // The failed user stays selected for a retry.
  await expect(page.getByRole("checkbox", { name: `Select ${people[1]!.email}` })).toBeChecked();
  await expect(bulk.getByText("1 selected")).toBeVisible();

  await page.goto("/users");
  await screenshot(page, "users-list");
});

test("a save from a page where editing began at an older version says 'changed by someone else'", async ({ page, context }) => {
  const s = stamp();
  const email = `conflict.${s}@example.com`;
  const id = await createUser(page, email, "Cleo Original");
  const second = await context.newPage();
  await second.goto(`/users/${id}`);
  await expect(second.getByLabel("Name")).toHaveValue("Cleo Original");

  // The second admin starts typing, then the first one saves.
  await second.getByLabel("Name").fill("Cleo Second");
  await page.getByLabel("Name").fill("Cleo First");
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByText("Changes saved.")).toBeVisible();

  const save = second.getByRole("button", { name: "Save changes" });
  await save.click();
  const alert = second.getByRole("alert").filter({ hasText: "changed by someone else" });
  await expect(alert).toContainText("changed by someone else");
  await expect(save).toBeEnabled();
  await alert.getByRole("link", { name: "Reload the latest version" }).click();
  await expect(second.getByLabel("Name")).toHaveValue("Cleo First");
  await expect(second.getByRole("list", { name: "Timeline" }).getByRole("listitem").first()).toContainText("Cleo First");
});

test("invalid edits show their errors next to the fields and save nothing", async ({ page }) => {
  const s = stamp();
  const email = `inline.${s}@example.com`;
  await createUser(page, email, "Ivy Inline");
  await page.getByLabel("Email").fill("not-an-email");
  await page.getByLabel("Name").fill("   ");
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByLabel("Email")).toHaveAccessibleDescription("Enter a valid email address.");
  await expect(page.getByLabel("Name")).toHaveAccessibleDescription("Name is required.");
  await expect(page.getByLabel("Email")).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByRole("alert").filter({ hasText: "Please correct the fields marked below." })).toBeVisible();
  await page.reload();
  await expect(page.getByRole("heading", { name: email })).toBeVisible();
  await expect(page.getByRole("list", { name: "Timeline" }).getByRole("listitem")).toHaveCount(1);
});
