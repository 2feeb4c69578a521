/**
 * Signs the first administrator in once and stores the session for every
 * other spec (Playwright's `storageState`). The admin comes from ADMIN_EMAIL /
 * ADMIN_PASSWORD, which `npm test` gives the console at start.
 */
import { expect, test as setup } from "@playwright/test";
import { ADMIN, ADMIN_STATE, signIn } from "./auth-helpers";

setup("sign in as the first administrator", async ({ page }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  await expect(page.getByRole("navigation", { name: "Main" })).toBeVisible();
  await page.context().storageState({ path: ADMIN_STATE });
});
