/**
 * Security changes as events (issue 13) on the real broker and database:
 * password set and reset, sessions ended by an admin or by the reset, a failed
 * sign-in of a known account (and nothing for an unknown one), sign-out, API
 * tokens created and revoked. Each is found in the log, in the user's timeline
 * or the activity feed, carries no secret, and a rebuild reproduces every view.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootstrapAccess } from "@/modules/access/application/bootstrap";
import { endSessions, setPassword, signOut } from "@/modules/access/application/account-security";
import { signIn } from "@/modules/access/application/sign-in";
import { createApiToken, revokeApiToken } from "@/modules/api-tokens/application/token-commands";
import { listActivity } from "@/modules/activity/read/list-activity";
import { getTimelinePage } from "@/modules/users/read/user-timeline";
import { updateUser } from "@/modules/users/application/user-commands";
import { principalFromSession } from "@/lib/auth/sessions";
import { principalFromToken } from "@/lib/auth/api-tokens";
import { silentLogger } from "@/lib/log";
import type { Projector } from "@/lib/projection/projector";
import { runRebuild } from "@/lib/projection/rebuild/rebuild";
import { app } from "@/modules";
import { countedRoundTrips, createTestContext, readEvents, readLog, startProjector, waitUntilCaughtUp, type TestContext } from "../integration";

let t: TestContext;
let projector: Projector;

beforeAll(async () => {
  t = await createTestContext("security_events");
  projector = await startProjector(t);
});
afterAll(async () => {
  await projector?.stop();
  await t?.close();
});

const meta = { ip: "192.0.2.44", userAgent: "vitest-browser" };
const password = "first-password-long";
const newPassword = "second-password-long";

describe("security changes become events", () => {
  it("records each change on the user's or the token's stream, shows it, keeps no secret, and a rebuild reproduces it", async () => {
    await bootstrapAccess(t.deps, {
      adminEmail: "root@example.com",
      adminPassword: password,
      consoleUrl: "http://console.test",
      projectorGroup: t.config.PROJECTOR_GROUP_ID,
    });
    const admin = await t.db.user.findFirstOrThrow({ where: { email: "root@example.com" } });
    const adminCtx = { actor: { kind: "user", userId: admin.id, email: admin.email, name: admin.name } } as const;

    // Failed sign-ins: a known account's is in its stream; an unknown email's only in the bounded table.
    expect(await signIn(t.deps, { email: "root@example.com", password: "wrong-password!" }, meta)).toMatchObject({ ok: false, reason: "invalid" });
    expect(await signIn(t.deps, { email: "nobody@example.com", password: "wrong-password!" }, meta)).toMatchObject({ ok: false });
    expect(await t.db.signInFailure.count({ where: { emailLower: "nobody@example.com" } })).toBe(1);

    // A failed sign-in never fails for an admin's concurrent edit of the profile (no expectedVersion).
    const [head] = await t.db.$queryRaw<{ version: number }[]>`SELECT version FROM streams WHERE id = ${admin.id}::uuid`;
    const [edit, failed] = await Promise.all([
      updateUser(t.deps, adminCtx, { userId: admin.id, expectedVersion: head!.version, name: "Root Admin" }),
      signIn(t.deps, { email: "root@example.com", password: "wrong-again!!" }, meta),
    ]);
    expect(edit.events).toHaveLength(1);
    expect(failed).toMatchObject({ ok: false, reason: "invalid" });

    // Sign in, then the admin resets the password: the session ends, and both are recorded.
    const first = await signIn(t.deps, { email: "root@example.com", password }, meta);
    if (!first.ok) throw new Error(first.message);
    await setPassword(t.deps, adminCtx, { userId: admin.id, password: newPassword });
    expect(await principalFromSession(t.db, first.secret)).toBeNull();

    // Signed out everywhere by an admin; then a sign-out of one's own.
    const second = await signIn(t.deps, { email: "root@example.com", password: newPassword }, meta);
    if (!second.ok) throw new Error(second.message);
    expect((await endSessions(t.deps, adminCtx, { userId: admin.id })).count).toBe(1);
    expect((await endSessions(t.deps, adminCtx, { userId: admin.id })).result.events).toEqual([]); // none open: nothing recorded
    const third = await signIn(t.deps, { email: "root@example.com", password: newPassword }, meta);
    if (!third.ok) throw new Error(third.message);
    expect(await signOut(t.deps, third.secret, meta)).toEqual({ recorded: true });
    expect(await principalFromSession(t.db, third.secret)).toBeNull();

    // An API token: created and revoked, each on the token's own stream; revoked once only.
    const token = await createApiToken(t.deps, adminCtx, { name: "ci-deploy", scope: "write" });
    expect(await principalFromToken(t.db, `Bearer ${token.secret}`)).toMatchObject({ kind: "token", name: "ci-deploy" });
    await revokeApiToken(t.deps, adminCtx, { tokenId: token.id });
    expect(await principalFromToken(t.db, `Bearer ${token.secret}`)).toBeNull();
    await expect(revokeApiToken(t.deps, adminCtx, { tokenId: token.id })).rejects.toMatchObject({ code: "not_found" });

    // The log.
    const events = await readEvents(t);
    const ofAdmin = events.filter((e) => e.aggregateId === admin.id).map((e) => [e.type, e.payload, e.actor.kind === "user" ? e.actor.email : e.actor.name]);
    expect(ofAdmin.filter(([type]) => type !== "UserCreated" && type !== "RoleAssignedToUser" && type !== "UserUpdated")).toEqual([
      ["UserPasswordSet", { reset: false }, "admin-console"],
      ["UserLoginFailed", { reason: "wrong-password", ...meta }, "admin-console"],
      ["UserLoginFailed", { reason: "wrong-password", ...meta }, "admin-console"],
      ["UserLoggedIn", meta, "root@example.com"],
      ["UserPasswordSet", { reset: true }, "root@example.com"],
      ["UserSessionsEnded", { reason: "password-reset", count: 1 }, "root@example.com"],
      ["UserLoggedIn", meta, "root@example.com"],
      ["UserSessionsEnded", { reason: "ended-by-admin", count: 1 }, "root@example.com"],
      ["UserLoggedIn", meta, "root@example.com"],
      ["UserLoggedOut", meta, "root@example.com"],
    ]);
    expect(events.filter((e) => e.aggregateId === token.id).map((e) => [e.type, e.payload, e.sequence])).toEqual([
      ["ApiTokenCreated", { name: "ci-deploy", scope: "write" }, 1],
      ["ApiTokenRevoked", { name: "ci-deploy", scope: "write" }, 2],
    ]);
    expect(JSON.stringify(events)).not.toMatch(/nobody@example\.com/);

    // No secret anywhere in any topic: passwords, hashes, the session and token secrets.
    const raw = (await readLog(t)).map((m) => m.value).join("\n");
    for (const secret of [password, newPassword, "wrong-password!", "$argon2", first.secret, third.secret, token.secret]) {
      expect(raw.includes(secret), secret).toBe(false);
    }

    // The views: the user's timeline and the activity feed, through the normal projection.
    await waitUntilCaughtUp(t);
    const timeline = await getTimelinePage(t.db, admin.id, { limit: 50 });
    expect(timeline!.entries.map((e) => e.type)).toEqual(expect.arrayContaining(["UserPasswordSet", "UserSessionsEnded", "UserLoginFailed", "UserLoggedOut"]));
    const feed = await listActivity(t.db, { type: null, actor: null, from: null, to: null });
    const labels = feed.entries.map((e) => `${e.type}: ${e.subject.label}: ${e.summary.text}`);
    expect(labels).toEqual(
      expect.arrayContaining([
        "ApiTokenRevoked: ci-deploy: API token revoked: ci-deploy (scope write)",
        "ApiTokenCreated: ci-deploy: API token created: ci-deploy (scope write)",
        "UserSessionsEnded: root@example.com: Signed out everywhere by an administrator (1 session ended)",
        "UserSessionsEnded: root@example.com: 1 session ended by the password reset",
        "UserPasswordSet: root@example.com: Password reset",
        "UserLoginFailed: root@example.com: Sign-in failed: wrong password from 192.0.2.44 (vitest-browser)",
        "UserLoggedOut: root@example.com: Signed out from 192.0.2.44 (vitest-browser)",
      ]),
    );
    expect(feed.entries.find((e) => e.type === "ApiTokenCreated")?.subject).toMatchObject({ kind: "token", href: "/tokens" });

    // A rebuild from the log reproduces every table, these timelines included.
    const outcome = await runRebuild({ db: t.db, config: t.config, app, kafka: t.kafka, logger: silentLogger, closeEnough: 20 });
    expect(outcome.status, outcome.message).toBe("switched");
    if (outcome.status === "switched") expect(outcome.comparison.filter((c) => !c.equal)).toEqual([]);
    expect(await getTimelinePage(t.db, admin.id, { limit: 50 })).toEqual(timeline);
    expect(await listActivity(t.db, { type: null, actor: null, from: null, to: null })).toEqual(feed);
  }, 90_000);
});

describe("an API token's creation", () => {
  it("takes no lock on its new id: BEGIN, the head's insert and the token's row in one round trip, then the COMMIT after the ack", async () => {
    const { db, sent } = countedRoundTrips(t.env.DATABASE_URL!);
    try {
      const token = await createApiToken({ ...t.deps, db }, t.ctx, { name: "two trips", scope: "read" });
      expect(sent).toEqual(["BEGIN+INSERT+INSERT", "COMMIT"]);
      expect(await principalFromToken(t.db, `Bearer ${token.secret}`)).toMatchObject({ kind: "token", name: "two trips" });
    } finally {
      await db.$disconnect();
    }
  });
});
