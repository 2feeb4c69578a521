/**
 * Who may do what, checked from the outside: anonymous visitors, a viewer,
 * a cross-site form post, hostile names, secrets in the log, sign-in
 * throttling, sessions of deleted or demoted admins, and API tokens.
 * "Nothing reached Kafka" is measured as the sum of every topic's end offset.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { expect, request as playwrightRequest, test, type APIRequestContext, type Browser, type Page } from "@playwright/test";
import { ADMIN, readAllMessages, signIn, totalEndOffset } from "./auth-helpers";
import { createRole, createUser, open, unique } from "./fixtures";

const ROOT = path.join(import.meta.dirname, "..");
const baseURL = process.env.BASE_URL!;

/** Every server action of the build, with a page that serves it (from Next's own manifest). */
function serverActions(): { id: string; name: string; page: string }[] {
  const manifest = JSON.parse(readFileSync(path.join(ROOT, ".next/server/server-reference-manifest.json"), "utf8")) as {
    node: Record<string, { workers: Record<string, unknown>; exportedName: string }>;
  };
  return Object.entries(manifest.node).map(([id, entry]) => {
    const worker = Object.keys(entry.workers).find((w) => !w.includes("[")) ?? Object.keys(entry.workers)[0]!;
    const page = worker.replace(/^app/, "").replace(/\/page$/, "") || "/";
    return { id, name: entry.exportedName, page };
  });
}

/** Every route handler of the app and its HTTP methods, with dynamic segments filled in. */
function routeHandlers(ids: Record<string, string>): { method: string; url: string }[] {
  const found: { method: string; url: string }[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name === "route.ts") {
        const source = readFileSync(full, "utf8");
        const url = path
          .relative(path.join(ROOT, "app"), dir)
          .split(path.sep)
          .map((segment) => segment.replace(/^\[(\w+)\]$/, (_, key: string) => ids[key] ?? "x"))
          .join("/");
        for (const [, method] of source.matchAll(/export (?:const|async function|function) (GET|POST|PATCH|PUT|DELETE)\b/g)) {
          found.push({ method: method!, url: `/${url}` });
        }
      }
    }
  };
  walk(path.join(ROOT, "app"));
  return found;
}

/** Calls a server action the way the browser does (no arguments: the check must come before any input). */
function callAction(api: APIRequestContext, action: { id: string; page: string }, origin = baseURL) {
  return api.post(action.page, {
    headers: { "Next-Action": action.id, "Content-Type": "text/plain;charset=UTF-8", Origin: origin },
    data: "[]",
    maxRedirects: 0,
  });
}

/** The actions anyone may call: signing in (public by nature), signing out and the one-time setup form. */
const PUBLIC_ACTIONS = new Set(["signInAction", "signOutAction", "completeSetupAction"]);

async function newSignedInPage(browser: Browser, email: string, password: string): Promise<Page> {
  const context = await browser.newContext({ storageState: { cookies: [], origins: [] } });
  const page = await context.newPage();
  await signIn(page, email, password);
  return page;
}

/** As the admin: sets a user's console password from their page. */
async function setPassword(page: Page, userId: string, password: string) {
  await open(page, `/users/${userId}`);
  await page.getByLabel("New password").fill(password);
  await page.getByRole("button", { name: /^(Set|Reset) password$/ }).click();
  await expect(page.getByRole("status").filter({ hasText: "Password set for" })).toBeVisible();
}

async function assign(page: Page, userId: string, roleName: string) {
  await open(page, `/users/${userId}`);
  await page.getByLabel("Role to assign").selectOption({ label: roleName });
  await page.getByRole("button", { name: "Assign role" }).click();
  await expect(page.getByRole("list", { name: "Current roles" })).toContainText(roleName);
}

test.describe("without a session", () => {
  test("pages send you to sign in; route handlers, server actions and the API refuse; nothing reaches Kafka", async ({ page }) => {
    const suffix = unique();
    const roleId = await createRole(page, `sec-role-${suffix}`);
    const userId = await createUser(page, `sec-${suffix}@example.com`, `Sec ${suffix}`);
    const anonymous = await playwrightRequest.newContext({ baseURL, storageState: { cookies: [], origins: [] } });
    const before = await totalEndOffset();

    for (const path of ["/users", "/users/new", `/users/${userId}`, "/roles", `/roles/${roleId}`, "/activity", "/tokens", "/forbidden"]) {
      const response = await anonymous.get(path, { maxRedirects: 0 });
      expect(response.status(), path).toBe(307);
      expect(response.headers().location, path).toContain("/sign-in?next=");
    }

    const routes = routeHandlers({ id: userId, roleId });
    expect(routes.length).toBeGreaterThan(10);
    for (const { method, url } of routes) {
      const response = await anonymous.fetch(url, { method, data: method === "GET" ? undefined : {}, maxRedirects: 0 });
      if (url === "/api/health") {
        // Public on purpose: up or down only.
        expect(response.status(), `${method} ${url}`).toBe(200);
        expect(await response.json()).toEqual({ status: "up" });
      } else if (url === "/api/ready") {
        // Public on purpose: ready or not, with reasons (partitions, offsets), never data. Either answer is fine here.
        expect([200, 503], `${method} ${url}`).toContain(response.status());
        const body = (await response.json()) as Record<string, unknown>;
        expect(Object.keys(body).sort()).toEqual(response.status() === 200 ? ["lag", "liveProjectors", "status"] : ["lag", "liveProjectors", "reasons", "status"]);
        expect(response.headers()["cache-control"]).toContain("no-store");
      } else expect(response.status(), `${method} ${url}`).toBe(401);
    }

    const actions = serverActions();
    expect(actions.length).toBeGreaterThan(8);
    for (const action of actions.filter((a) => !PUBLIC_ACTIONS.has(a.name))) {
      const response = await callAction(anonymous, action);
      expect(await response.text(), action.name).toContain('"code":"unauthenticated"');
    }

    expect(await totalEndOffset()).toBe(before);
    await anonymous.dispose();
  });
});

test("a viewer reads everything and changes nothing", async ({ page, browser }) => {
  const suffix = unique();
  const email = `viewer-${suffix}@example.com`;
  const password = `viewer-pass-${suffix}`;
  const userId = await createUser(page, email, `Viewer ${suffix}`);
  await assign(page, userId, "viewer");
  await setPassword(page, userId, password);

  const viewer = await newSignedInPage(browser, email, password);
  for (const path of ["/users", `/users/${userId}`, "/roles", "/activity"]) {
    const response = await viewer.goto(path);
    expect(response?.status(), path).toBe(200);
  }
  await open(viewer, "/users");
  await expect(viewer.getByRole("link", { name: "New user" })).toHaveCount(0);
  await expect(viewer.getByRole("checkbox", { name: "Select all on this page" })).toHaveCount(0);
  await viewer.goto("/tokens");
  await expect(viewer.getByRole("heading", { name: "You do not have permission to see this" })).toBeVisible();

  const before = await totalEndOffset();
  const session = viewer.context().request;
  for (const action of serverActions().filter((a) => !PUBLIC_ACTIONS.has(a.name))) {
    const response = await callAction(session, action);
    expect(await response.text(), action.name).toContain('"code":"forbidden"');
  }
  expect(await totalEndOffset()).toBe(before);
  await viewer.context().close();
});

test("a cross-site form post to a server action is refused; the same post from the console's own origin runs", async ({ page }) => {
  await open(page, "/users");
  const session = page.context().request;
  const create = serverActions().find((a) => a.name === "createUserAction")!;
  const before = await totalEndOffset();

  const crossSite = await callAction(session, create, "https://evil.example");
  expect(crossSite.status()).not.toBe(200);
  expect(await crossSite.text()).not.toContain('"ok":true');

  // Control: same session and request from the right origin gets past the checks to the command's validation.
  const sameSite = await callAction(session, create);
  expect(await sameSite.text()).toContain('"code":"validation"');
  expect(await totalEndOffset()).toBe(before);
});

test("names and emails holding HTML and script render as inert text everywhere", async ({ page }) => {
  const suffix = unique();
  const name = `<img src=x onerror="window.__xss=1"><script>window.__xss=2</script> ${suffix}`;
  const roleName = `<b onmouseover="window.__xss=3">role</b> ${suffix}`;
  await page.addInitScript(() => ((window as unknown as { __xss?: number }).__xss = undefined));
  await createRole(page, roleName);
  const userId = await createUser(page, `xss-${suffix}@example.com`, name);
  await assign(page, userId, roleName);

  for (const url of [`/users/${userId}`, `/users?q=xss-${suffix}`, "/activity", "/roles"]) {
    await open(page, url);
    await expect(page.getByText(url === "/roles" ? roleName : name).first()).toBeVisible();
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), url).toBeUndefined();
    // Nothing from the names became an element.
    expect(await page.locator("img[src=x], b[onmouseover]").count(), url).toBe(0);
  }
});

test("sign-in is throttled per account, and failures do not reveal whether the account exists", async ({ page, browser }) => {
  const suffix = unique();
  const email = `throttle-${suffix}@example.com`;
  const password = `right-password-${suffix}`;
  const userId = await createUser(page, email, `Throttle ${suffix}`);
  await assign(page, userId, "viewer");
  await setPassword(page, userId, password);

  const context = await browser.newContext({ storageState: { cookies: [], origins: [] } });
  const visitor = await context.newPage();
  const attempt = async (who: string, secret: string) => {
    await visitor.goto("/sign-in");
    await visitor.getByLabel("Email").fill(who);
    await visitor.getByLabel("Password").fill(secret);
    await visitor.getByRole("button", { name: "Sign in" }).click();
    // (Next's empty route announcer is an alert too.)
    return visitor.getByRole("alert").filter({ hasText: /\S/ }).textContent();
  };
  const unknownAccount = await attempt(`nobody-${suffix}@example.com`, "whatever-it-is");
  for (let i = 0; i < 5; i++) expect(await attempt(email, `wrong-${i}`)).toBe(unknownAccount);
  expect(unknownAccount).toContain("Email or password is incorrect.");
  // The sixth attempt is refused even with the right password.
  expect(await attempt(email, password)).toContain("Too many failed sign-in attempts");
  await expect(visitor).toHaveURL(/\/sign-in/);
  await context.close();
});

test("an admin's open session dies at its next request when they are deleted or lose the role", async ({ page, browser }) => {
  const suffix = unique();
  const accounts = ["deleted", "demoted"].map((kind) => ({
    kind,
    email: `${kind}-admin-${suffix}@example.com`,
    password: `${kind}-password-${suffix}`,
  }));
  const ids: string[] = [];
  for (const account of accounts) {
    const id = await createUser(page, account.email, `Admin ${account.kind}`);
    await assign(page, id, "admin");
    await setPassword(page, id, account.password);
    ids.push(id);
  }
  const [deletedPage, demotedPage] = await Promise.all(accounts.map((a) => newSignedInPage(browser, a.email, a.password)));
  await open(deletedPage!, "/users/new");
  await open(demotedPage!, "/users/new");

  // The admin deletes one and takes the role from the other.
  await open(page, `/users/${ids[0]}`);
  await page.getByRole("button", { name: "Delete user" }).click();
  await page.getByRole("button", { name: "Yes, delete" }).click();
  await expect(page.getByText(/This user was deleted/)).toBeVisible();
  await open(page, `/users/${ids[1]}`);
  await page.getByRole("button", { name: /^Remove/ }).first().click();
  await expect(page.getByRole("list", { name: "Current roles" })).toHaveCount(0);

  const create = serverActions().find((a) => a.name === "createUserAction")!;
  for (const stale of [deletedPage!, demotedPage!]) {
    const before = await totalEndOffset();
    // The old session cookie no longer runs an action...
    const response = await callAction(stale.context().request, create);
    expect(await response.text()).toContain('"code":"unauthenticated"');
    expect(await totalEndOffset()).toBe(before);
    // ...and the next page load goes to sign-in (a live update may already have taken the page there).
    await stale.goto("/users");
    await expect(stale).toHaveURL(/\/sign-in/);
    await stale.context().close();
  }
});

test.describe("API tokens", () => {
  async function createToken(page: Page, name: string, scope: "read" | "write"): Promise<string> {
    await open(page, "/tokens");
    await page.getByLabel("Name").fill(name);
    await page.getByLabel("Scope").selectOption(scope);
    await page.getByRole("button", { name: "Create token" }).click();
    const secret = await page.getByLabel("New API token").inputValue();
    expect(secret).toMatch(/^ack_/);
    return secret;
  }

  test("scopes, errors, idempotent retries and revocation", async ({ page }) => {
    const suffix = unique();
    const reader = await createToken(page, `reader-${suffix}`, "read");
    const writer = await createToken(page, `writer-${suffix}`, "write");
    const api = await playwrightRequest.newContext({ baseURL, storageState: { cookies: [], origins: [] } });
    const as = (token: string, extra: Record<string, string> = {}) => ({ Authorization: `Bearer ${token}`, ...extra });

    expect((await api.get("/api/v1/users")).status()).toBe(401);
    expect((await api.get("/api/v1/users", { headers: as("ack_not-a-real-token") })).status()).toBe(401);
    expect((await api.get("/api/v1/users", { headers: as(reader) })).status()).toBe(200);
    const doc = await api.get("/api/v1/openapi.json", { headers: as(reader) });
    expect(Object.keys(((await doc.json()) as { paths: object }).paths)).toContain("/api/v1/users/{id}/roles");

    const before = await totalEndOffset();
    const refused = await api.post("/api/v1/users", { headers: as(reader), data: { email: `r-${suffix}@example.com`, name: "R" } });
    expect(refused.status()).toBe(403);
    expect(await totalEndOffset()).toBe(before);

    const invalid = await api.post("/api/v1/users", { headers: as(writer), data: { email: "not-an-email", name: "" } });
    expect(invalid.status()).toBe(422);
    const invalidBody = (await invalid.json()) as { error: { fieldErrors: Record<string, string[]> } };
    expect(Object.keys(invalidBody.error.fieldErrors).sort()).toEqual(["email", "name"]);

    // Idempotent create: the retry returns the first answer and records nothing more.
    const body = { email: `api-${suffix}@example.com`, name: `Api ${suffix}` };
    const key = `create-${suffix}`;
    const first = await api.post("/api/v1/users", { headers: as(writer, { "Idempotency-Key": key }), data: body });
    expect(first.status()).toBe(201);
    const created = (await first.json()) as { id: string; version: number; events: { type: string }[] };
    expect(created.events.map((e) => e.type)).toEqual(["UserCreated"]);
    const afterFirst = await totalEndOffset();
    expect(afterFirst).toBe(before + 1);
    const retry = await api.post("/api/v1/users", { headers: as(writer, { "Idempotency-Key": key }), data: body });
    expect(retry.status()).toBe(201);
    expect(retry.headers()["idempotent-replayed"]).toBe("true");
    expect(await retry.json()).toEqual(created);
    const reused = await api.post("/api/v1/users", {
      headers: as(writer, { "Idempotency-Key": key }),
      data: { ...body, name: "Someone else" },
    });
    expect(reused.status()).toBe(422);
    expect(await totalEndOffset()).toBe(afterFirst);

    // The token's name is the actor; stale versions conflict; unknown ids are 404.
    await expect
      .poll(async () => {
        const timeline = await api.get(`/api/v1/users/${created.id}/timeline`, { headers: as(reader) });
        return timeline.status() === 200 ? ((await timeline.json()) as { entries: { actor: unknown }[] }).entries[0]?.actor : null;
      })
      .toMatchObject({ kind: "service", name: `writer-${suffix}` });
    const stale = await api.patch(`/api/v1/users/${created.id}`, { headers: as(writer), data: { expectedVersion: 0, name: "Late" } });
    expect(stale.status()).toBe(409);
    const missing = await api.get("/api/v1/users/00000000-0000-4000-8000-000000000000", { headers: as(reader) });
    expect(missing.status()).toBe(404);

    // A bulk role change: each user's own outcome; a reader may not; a malformed id refuses all.
    const { roles } = (await (await api.get("/api/v1/roles", { headers: as(reader) })).json()) as { roles: { id: string; name: string }[] };
    const viewer = roles.find((r) => r.name === "viewer")!;
    const unknownUser = "00000000-0000-4000-8000-000000000000";
    const beforeBulk = await totalEndOffset();
    const notAllowed = await api.post(`/api/v1/roles/${viewer.id}/members`, { headers: as(reader), data: { change: "assign", userIds: [created.id] } });
    expect(notAllowed.status()).toBe(403);
    const malformed = await api.post(`/api/v1/roles/${viewer.id}/members`, { headers: as(writer), data: { change: "assign", userIds: [created.id, "nope"] } });
    expect(malformed.status()).toBe(422);
    expect(await totalEndOffset()).toBe(beforeBulk);
    const bulk = await api.post(`/api/v1/roles/${viewer.id}/members`, { headers: as(writer), data: { change: "assign", userIds: [created.id, unknownUser] } });
    expect(bulk.status()).toBe(200);
    expect(await bulk.json()).toMatchObject({
      role: { id: viewer.id, name: "viewer" },
      changed: 1,
      unchanged: 0,
      failed: 1,
      results: [
        { userId: created.id, outcome: "changed" },
        { userId: unknownUser, outcome: "failed", code: "not_found" },
      ],
    });
    expect(await totalEndOffset()).toBe(beforeBulk + 1);

    // Revoked: refused from the next request on.
    await open(page, "/tokens");
    await page.getByRole("button", { name: `Revoke token writer-${suffix}` }).click();
    await page.getByRole("button", { name: "Yes, revoke" }).click();
    await expect(page.getByRole("row", { name: new RegExp(`writer-${suffix}`) })).toContainText("revoked");
    expect((await api.get("/api/v1/users", { headers: as(writer) })).status()).toBe(401);
    await api.dispose();
  });
});

test("after sign-in, a password reset and token creation, no Kafka message holds a password, a hash, a session or a token", async ({
  page,
  browser,
}) => {
  const suffix = unique();
  const email = `secret-${suffix}@example.com`;
  const firstPassword = `first-secret-${suffix}`;
  const secondPassword = `second-secret-${suffix}`;
  const userId = await createUser(page, email, `Secret ${suffix}`);
  await assign(page, userId, "viewer");
  await setPassword(page, userId, firstPassword);
  await setPassword(page, userId, secondPassword);
  const signedIn = await newSignedInPage(browser, email, secondPassword);
  const sessionCookie = (await signedIn.context().cookies()).find((c) => c.name === "session")?.value;
  expect(sessionCookie).toBeTruthy();
  const adminCookie = (await page.context().cookies()).find((c) => c.name === "session")?.value;

  await open(page, "/tokens");
  await page.getByLabel("Name").fill(`scan-${suffix}`);
  await page.getByRole("button", { name: "Create token" }).click();
  const token = await page.getByLabel("New API token").inputValue();

  const messages = await readAllMessages();
  expect(messages.length).toBeGreaterThan(10);
  // The sign-in itself is in the log (UserLoggedIn for this user)...
  expect(messages.some((m) => m.includes('"type":"UserLoggedIn"') && m.includes(userId))).toBe(true);
  // ...but none of the secrets are.
  for (const secret of [firstPassword, secondPassword, ADMIN.password, sessionCookie!, adminCookie!, token, "$argon2"]) {
    expect(messages.filter((m) => m.includes(secret)), `a message contains ${secret.slice(0, 12)}…`).toEqual([]);
  }
  await signedIn.context().close();
});
