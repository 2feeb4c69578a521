/**
 * One user's whole life in the console: a role is created, a user is created,
 * given the role, renamed (the timeline shows the diff), looked at as it was
 * before the rename (time travel), stripped of the role, exported (CSV and
 * JSON hold what the timeline shows) and deleted (then found under "Deleted").
 */
import { ADMIN } from "./auth-helpers";
import { expect, test } from "@playwright/test";
import { createRole, createUser, downloadText, parseCsv, screenshot, stamp } from "./users-helpers";

test("role, user, assign, rename with diff, time travel, unassign, export, delete", async ({ page }) => {
  const s = stamp();
  const roleName = `Auditors ${s}`;
  const email = `ada.${s}@example.com`;

  await createRole(page, roleName, "Read the books");
  await createUser(page, email, "Ada Lovelace");
  const timeline = page.getByRole("list", { name: "Timeline" });
  const entries = timeline.getByRole("listitem");
  await expect(entries).toHaveCount(1);

  // Assign from the filterable list.
  await page.getByLabel("Filter roles").fill(s);
  await expect(page.getByLabel("Role to assign")).toHaveValue(/.+/);
  await page.getByLabel("Role to assign").selectOption({ label: roleName });
  await page.getByRole("button", { name: "Assign role" }).click();
  await expect(page.getByRole("list", { name: "Current roles" })).toContainText(roleName);
  await expect(entries).toHaveCount(2);
  await expect(entries.first()).toContainText("RoleAssignedToUser");
  await expect(entries.first()).toContainText(`Assigned role ${roleName}`);

  // Rename: the newest entry shows the change, before → after.
  await page.getByLabel("Name").fill("Ada King");
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByText("Changes saved.")).toBeVisible();
  await expect(entries).toHaveCount(3);
  const updated = entries.first();
  await expect(updated).toContainText("UserUpdated");
  await expect(updated.getByRole("deletion")).toHaveText("Ada Lovelace");
  await expect(updated.getByRole("insertion")).toHaveText("Ada King");
  await expect(updated).toContainText(`<${ADMIN.email}>`);
  await expect(updated).toContainText(/just now|minute/);
  await expect(updated).toContainText("correlation");

  // Time travel: the state right after the assignment still has the old name.
  await entries.filter({ hasText: "RoleAssignedToUser" }).getByRole("button", { name: "View state at this point" }).click();
  const dialog = page.getByRole("dialog", { name: "State after event 2" });
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText("Ada Lovelace");
  await expect(dialog).not.toContainText("Ada King");
  await expect(dialog.getByRole("list", { name: "Roles at this point" })).toContainText(roleName);
  await expect(dialog).toContainText(/Version\s*2/);
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  // …and after the first event, no role yet.
  await entries.filter({ hasText: "UserCreated" }).getByRole("button", { name: "View state at this point" }).click();
  const first = page.getByRole("dialog", { name: "State after event 1" });
  await expect(first).toContainText("Ada Lovelace");
  await expect(first).toContainText(/Roles\s*None/);
  await first.getByRole("button", { name: "Close" }).click();
  await expect(first).toBeHidden();

  // Unassign.
  await page.getByRole("button", { name: `Remove role ${roleName}` }).click();
  await expect(page.getByText("No roles.")).toBeVisible();
  await expect(entries).toHaveCount(4);
  await expect(entries.first()).toContainText(`Unassigned role ${roleName}`);

  // The type filter narrows the timeline.
  await page.getByLabel("Event type").selectOption("UserUpdated");
  await expect(entries).toHaveCount(1);
  await expect(entries.first()).toContainText("UserUpdated");
  await page.getByLabel("Event type").selectOption("");
  await expect(entries).toHaveCount(4);
  await screenshot(page, "user-timeline-rich");

  // Exports hold what the timeline shows (the timeline is newest first, exports oldest first).
  const shownTypes = (await entries.getByText(/^(User|Role)[A-Za-z]+$/).allInnerTexts()).reverse();
  const shownCorrelations = (await entries.getByRole("code").allInnerTexts()).reverse();
  expect(shownTypes).toEqual(["UserCreated", "RoleAssignedToUser", "UserUpdated", "RoleUnassignedFromUser"]);

  const csv = await downloadText(page, "Export CSV");
  expect(csv.name).toMatch(/\.csv$/);
  const [header, ...rows] = parseCsv(csv.text);
  expect(header).toEqual(["sequence", "occurredAt", "type", "actor", "correlationId", "causationId", "eventId", "changes", "payload"]);
  expect(rows.map((r) => r[0])).toEqual(["1", "2", "3", "4"]);
  expect(rows.map((r) => r[2])).toEqual(shownTypes);
  expect(rows.map((r) => r[4])).toEqual(shownCorrelations);
  expect(JSON.parse(rows[2]![7]!)).toEqual({ name: { before: "Ada Lovelace", after: "Ada King" } });
  expect(JSON.parse(rows[1]![8]!)).toMatchObject({ roleName });

  const json = await downloadText(page, "Export JSON");
  expect(json.name).toMatch(/\.json$/);
  const events = JSON.parse(json.text) as { sequence: number; type: string; correlationId: string; payload: unknown }[];
  expect(events.map((e) => e.type)).toEqual(shownTypes);
  expect(events.map((e) => e.correlationId)).toEqual(shownCorrelations);
  expect(events[3]!.payload).toMatchObject({ roleName, reason: "unassigned" });

  // Delete: gone from the live list, shown under "Deleted".
  await page.getByRole("button", { name: "Delete user" }).click();
  await page.getByRole("button", { name: "Yes, delete user" }).click();
  await expect(page.getByText("This user was deleted on")).toBeVisible();
  await expect(entries.first()).toContainText("UserDeleted");

  await page.goto(`/users?q=${encodeURIComponent(email)}`);
  await expect(page.getByText(`No users match “${email}”`)).toBeVisible();
  await page.getByLabel("Status").selectOption("deleted");
  await page.getByRole("button", { name: "Apply filters" }).click();
  await expect(page).toHaveURL(/status=deleted/);
  const row = page.getByRole("row").filter({ hasText: email });
  await expect(row).toHaveCount(1);
  await expect(row).toContainText("Deleted");
  await expect(row).toContainText("Ada King");
});
