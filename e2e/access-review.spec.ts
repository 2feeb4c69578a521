/**
 * The log's whole story, as an auditor asks it: a field's history with links to
 * the timeline, two points of a user's history compared, an actor's name leading
 * to what they did, and who held a role in a period (access review, CSV).
 */
import { expect, test } from "@playwright/test";
import { ADMIN } from "./auth-helpers";
import { assignRole, createRole, createUser, open, unique } from "./fixtures";
import { downloadText, parseCsv } from "./users-helpers";

// One journey across several pages, each step waiting for Kafka and the projector (~15 s on a quiet machine).
test.describe.configure({ timeout: 240_000 });

test("field history, comparison, actor links and the access review of a role", async ({ page }) => {
  const id = unique();
  const roleName = `Auditors ${id}`;
  const email = `grace.${id}@example.com`;
  const roleId = await createRole(page, roleName);
  const userId = await createUser(page, email, "Grace Hopper");
  await assignRole(page, roleName);
  await page.getByLabel("Name").fill("Grace B. Hopper");
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByText("Changes saved.")).toBeVisible();

  // Field history: every value, who set it, and a link to the timeline entry.
  await page.getByRole("button", { name: "History of Name" }).click();
  const names = page.getByRole("list", { name: "History of Name" });
  await expect(names.getByRole("listitem")).toHaveCount(2);
  await expect(names.getByRole("listitem").first()).toContainText("Grace B. Hopper");
  await expect(names.getByRole("listitem").last()).toContainText("Grace Hopper");
  await expect(names.getByRole("listitem").first()).toContainText(ADMIN.email);
  await page.getByRole("button", { name: "History of Email" }).click();
  await expect(page.getByRole("list", { name: "History of Email" }).getByRole("listitem")).toHaveCount(1);
  await page.getByRole("button", { name: "History of Name" }).click();
  await names.getByRole("link", { name: "event #3" }).click();
  await expect(page).toHaveURL(new RegExp(`/users/${userId}\\?event=3#event-3$`));
  const target = page.locator("#event-3");
  await expect(target).toHaveAttribute("aria-current", "true");
  await expect(target).toContainText("UserUpdated");

  // Compare the state after the first event with the state after the rename.
  await open(page, `/users/${userId}`);
  const entries = page.getByRole("list", { name: "Timeline" }).getByRole("listitem");
  await entries.filter({ hasText: "UserCreated" }).getByRole("button", { name: "View state at this point" }).click();
  const dialog = page.getByRole("dialog", { name: "State after event 1" });
  await dialog.getByLabel("Compare with event").fill("3");
  await dialog.getByRole("button", { name: "Compare" }).click();
  const compared = page.getByRole("dialog", { name: "Event 1 compared with event 3" });
  const differences = compared.getByRole("list", { name: "Differences" });
  await expect(differences).toContainText("Grace Hopper");
  await expect(differences).toContainText("Grace B. Hopper");
  await expect(differences).toContainText(`Role gained: — → ${roleName}`);
  await compared.getByRole("button", { name: "Close" }).click();

  // An actor's name leads to what they did.
  await entries.filter({ hasText: "RoleAssignedToUser" }).getByRole("link", { name: new RegExp(ADMIN.email) }).click();
  await expect(page).toHaveURL(/\/activity\?by=user%3A/);
  await expect(page.getByRole("status").filter({ hasText: "did." })).toContainText(ADMIN.email);
  const feed = page.getByRole("table", { name: "Activity" });
  await expect(feed.locator("tbody tr").filter({ hasText: roleName }).first()).toBeVisible();

  // Access review: who held the role in the period, who granted it, still held (no end).
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Access review" }).click();
  await page.getByLabel("Role", { exact: true }).selectOption({ label: roleName });
  await page.getByLabel("From", { exact: true }).fill("2000-01-01T00:00");
  await page.getByLabel("To", { exact: true }).fill("2100-01-01T00:00");
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page).toHaveURL(new RegExp(`/access-review\\?role=${roleId}&from=2000-01-01T00%3A00&to=2100-01-01T00%3A00`));
  const members = page.getByRole("table", { name: "Members in period" });
  const row = members.locator("tbody tr").filter({ hasText: email });
  await expect(row).toHaveCount(1);
  await expect(row.locator("td").nth(2)).toHaveText("");
  await expect(row.locator("td").nth(3)).toHaveText(ADMIN.email);
  await expect(page.getByRole("img", { name: new RegExp(`Members of ${roleName}: 0 at .*, 1 at `) })).toBeVisible();
  await page.screenshot({ path: "test-results/screenshots/access-review.png", fullPage: true });
  const csv = await downloadText(page, "Export CSV");
  const [header, ...lines] = parseCsv(csv.text);
  expect(header).toContain("heldUntil");
  expect(lines.map((l) => l[0])).toEqual([email]);

  // A period before the grant: nobody; a bad period: a clear error on the field.
  await page.getByLabel("To", { exact: true }).fill("2000-01-02T00:00");
  await page.getByRole("button", { name: "Show" }).click();
  await expect(members).toContainText("Nobody held this role in the period.");
  await page.getByLabel("From", { exact: true }).fill("2001-01-01T00:00");
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page.getByLabel("To", { exact: true })).toHaveAccessibleDescription("To must not be before From.");

  // The role's page shows its membership history.
  await open(page, `/roles/${roleId}`);
  const history = page.getByRole("list", { name: "Joined and left" });
  await expect(history.getByRole("listitem")).toHaveCount(1);
  await expect(history).toContainText(`Joined${email}`);
});
