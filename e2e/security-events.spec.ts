/**
 * Security changes as events (issue 13), seen as an admin sees them: a failed
 * sign-in, a sign-out, sessions ended by an admin, a password reset, and an
 * API token created and revoked, each in the user's timeline or the activity
 * feed with a readable label.
 */
import { expect, test, type Page } from "@playwright/test";
import { signIn } from "./auth-helpers";
import { createUser, open, unique } from "./fixtures";

async function setPassword(page: Page, userId: string, password: string) {
  await open(page, `/users/${userId}`);
  await page.getByLabel("New password").fill(password);
  await page.getByRole("button", { name: /^(Set|Reset) password$/ }).click();
  await expect(page.getByRole("status").filter({ hasText: "Password set for" })).toBeVisible();
}

test("an admin sees sign-ins, sign-outs, ended sessions, a reset password and a token's life as readable entries", async ({ page, browser }) => {
  const suffix = unique();
  const email = `audited-${suffix}@example.com`;
  const password = `first-password-${suffix}`;
  const userId = await createUser(page, email, `Audited ${suffix}`);
  await page.getByLabel("Role to assign").selectOption({ label: "viewer" });
  await page.getByRole("button", { name: "Assign role" }).click();
  await expect(page.getByRole("list", { name: "Current roles" })).toContainText("viewer");
  await setPassword(page, userId, password);

  // The user, in a browser of their own: a wrong password, then in and out, then in again.
  const context = await browser.newContext({ storageState: { cookies: [], origins: [] } });
  const visitor = await context.newPage();
  await visitor.goto("/sign-in");
  await visitor.getByLabel("Email").fill(email);
  await visitor.getByLabel("Password").fill("not-the-password");
  await visitor.getByRole("button", { name: "Sign in" }).click();
  await expect(visitor.getByText("Email or password is incorrect.")).toBeVisible();
  await signIn(visitor, email, password);
  await visitor.getByRole("button", { name: "Sign out" }).click();
  await expect(visitor).toHaveURL(/\/sign-in/);
  await signIn(visitor, email, password);

  // The admin signs them out everywhere, then resets the password.
  await open(page, `/users/${userId}`);
  await page.getByRole("button", { name: "Sign out everywhere" }).click();
  await expect(page.getByRole("status").filter({ hasText: `1 session of ${email} ended.` })).toBeVisible();
  await setPassword(page, userId, `second-password-${suffix}`);
  await context.close();

  const timeline = page.getByRole("list", { name: "Timeline" });
  for (const entry of [
    "Password reset",
    "Signed out everywhere by an administrator (1 session ended)",
    /Signed out from /,
    /Sign-in failed: wrong password from /,
    "Password set",
  ]) {
    await expect(timeline.getByText(entry).first()).toBeVisible();
  }

  // An API token, created and revoked: in the activity feed, by name and scope.
  const tokenName = `audit-${suffix}`;
  await open(page, "/tokens");
  await page.getByLabel("Name").fill(tokenName);
  await page.getByLabel("Scope").selectOption("read");
  await page.getByRole("button", { name: "Create token" }).click();
  await expect(page.getByLabel("New API token")).toHaveValue(/^ack_/);
  await page.getByRole("button", { name: `Revoke token ${tokenName}` }).click();
  await page.getByRole("button", { name: "Yes, revoke" }).click();
  await expect(page.getByRole("row", { name: new RegExp(tokenName) })).toContainText("revoked");

  await open(page, "/activity");
  const feed = page.getByRole("table", { name: "Activity" });
  await expect(feed.getByRole("row").filter({ hasText: `API token revoked: ${tokenName} (scope read)` })).toContainText("ApiTokenRevoked");
  await expect(feed.getByRole("row").filter({ hasText: `API token created: ${tokenName} (scope read)` })).toContainText("API token");
  await expect(feed.getByRole("row").filter({ hasText: email }).filter({ hasText: "Password reset" })).toContainText("UserPasswordSet");
});
