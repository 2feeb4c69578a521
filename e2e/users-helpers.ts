/**
 * Shared steps for the users specs. Everything is seeded through the console
 * itself (its forms call the same commands as every other client), and every
 * name carries a per-run stamp so specs never see each other's data.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { expect, type Page } from "@playwright/test";

export const stamp = () => `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;

export async function createRole(page: Page, name: string, description = "") {
  await page.goto("/roles");
  await page.getByLabel("Name", { exact: true }).fill(name);
  if (description) await page.getByLabel("Description", { exact: true }).fill(description);
  await page.getByRole("button", { name: "Create role" }).click();
  await expect(page.getByText(name, { exact: true }).first()).toBeVisible();
}

/** Creates a user through "New user" and returns its id (the page's URL ends with it). */
export async function createUser(page: Page, email: string, name: string): Promise<string> {
  await page.goto("/users/new");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Name").fill(name);
  await page.getByRole("button", { name: "Create user" }).click();
  await expect(page.getByRole("heading", { name: email })).toBeVisible();
  const id = new URL(page.url()).pathname.split("/").pop();
  if (!id) throw new Error(`no user id in ${page.url()}`);
  return id;
}

/** Saves a download and returns its text. */
export async function downloadText(page: Page, linkName: string): Promise<{ name: string; text: string }> {
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: linkName }).click()]);
  const file = await download.path();
  return { name: download.suggestedFilename(), text: readFileSync(file, "utf8") };
}

/** RFC 4180 CSV → rows of fields (quoted fields, doubled quotes, CRLF). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += c;
  }
  if (field || row.length) rows.push([...row, field]);
  return rows;
}

export async function screenshot(page: Page, name: string) {
  mkdirSync("test-results/screenshots", { recursive: true });
  await page.screenshot({ path: `test-results/screenshots/${name}.png`, fullPage: true });
}
