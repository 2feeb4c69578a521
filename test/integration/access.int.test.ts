/**
 * First start, sign-in and sessions against the real broker and database:
 * the built-in roles and the first admin exactly once under concurrent
 * starts, the one-time setup link, sign-in throttling and UserLoggedIn, and
 * sessions that end when their user loses access.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootstrapAccess, completeSetup } from "@/modules/access/application/bootstrap";
import { BUILT_IN_ROLES } from "@/lib/auth/permissions";
import { principalFromSession } from "@/lib/auth/sessions";
import { INVALID_CREDENTIALS, signIn, THROTTLE } from "@/modules/access/application/sign-in";
import { waitForProjection } from "@/lib/command/wait-for-projection";
import type { Projector } from "@/lib/projection/projector";
import { createRole, updateRole } from "@/modules/roles/application/role-commands";
import { assignRole, createUser, deleteUser, unassignRole } from "@/modules/users/application/user-commands";
import { createTestContext, readEvents, startProjector, waitUntilCaughtUp, type TestContext } from "../integration";

let t: TestContext;
let projector: Projector;

beforeAll(async () => {
  t = await createTestContext("access");
  projector = await startProjector(t);
});
afterAll(async () => {
  await projector?.stop();
  await t?.close();
});

const options = (extra: object = {}) => ({
  consoleUrl: "http://console.test",
  projectorGroup: t.config.PROJECTOR_GROUP_ID,
  ...extra,
});
const meta = { ip: "192.0.2.10", userAgent: "vitest" };

describe("first start", () => {
  it("creates each built-in role once, through RoleCreated, however many consoles start at once", async () => {
    await Promise.all([1, 2, 3].map(() => bootstrapAccess(t.deps, options())));
    await waitUntilCaughtUp(t);
    const created = (await readEvents(t)).filter((e) => e.type === "RoleCreated");
    expect(created.map((e) => e.aggregateId).sort()).toEqual([BUILT_IN_ROLES.admin.id, BUILT_IN_ROLES.viewer.id].sort());
    const roles = await t.db.role.findMany({ orderBy: { name: "asc" } });
    expect(roles.map((r) => [r.name, r.builtIn, r.permissions.length])).toEqual([
      ["admin", true, BUILT_IN_ROLES.admin.permissions.length],
      ["viewer", true, 1],
    ]);
  });

  it("prints a one-time setup link while nobody can sign in; the link works once", async () => {
    const outcome = await bootstrapAccess(t.deps, options());
    expect(outcome.kind).toBe("setup-link");
    const token = new URL(outcome.kind === "setup-link" ? outcome.url : "http://x").searchParams.get("token")!;

    const input = { email: "First@Example.com", name: "First Admin", password: "short" };
    await expect(completeSetup(t.deps, token, input, t.config.PROJECTOR_GROUP_ID)).rejects.toMatchObject({
      code: "validation",
      fieldErrors: { password: ["Password must be at least 12 characters."] },
    });
    const userId = await completeSetup(t.deps, token, { ...input, password: "a-long-enough-secret" }, t.config.PROJECTOR_GROUP_ID);
    await expect(completeSetup(t.deps, token, { ...input, email: "second@example.com", password: "a-long-enough-secret" }, t.config.PROJECTOR_GROUP_ID)).rejects.toMatchObject({ code: "invariant" });

    const signedIn = await signIn(t.deps, { email: "first@example.com", password: "a-long-enough-secret" }, meta);
    expect(signedIn).toMatchObject({ ok: true, userId });
    // Later starts change nothing.
    expect((await bootstrapAccess(t.deps, options({ adminEmail: "other@example.com", adminPassword: "another-long-secret" }))).kind).toBe("ready");
  });
});

describe("sign-in", () => {
  it("records UserLoggedIn for the user, by the user; throttles per account; same answer for unknown accounts", async () => {
    const password = "a-long-enough-secret";
    const unknown = await signIn(t.deps, { email: "nobody@example.com", password }, meta);
    expect(unknown).toEqual({ ok: false, reason: "invalid", message: INVALID_CREDENTIALS });

    for (let i = 0; i < THROTTLE.perAccount; i++) {
      expect(await signIn(t.deps, { email: "FIRST@example.com", password: `wrong-${i}` }, { ...meta, ip: `198.51.100.${i}` })).toEqual(unknown);
    }
    const throttled = await signIn(t.deps, { email: "first@example.com", password }, meta);
    expect(throttled).toMatchObject({ ok: false, reason: "throttled" });

    await t.db.signInFailure.deleteMany({});
    const ok = await signIn(t.deps, { email: "first@example.com", password }, meta);
    if (!ok.ok) throw new Error(ok.message);
    await waitUntilCaughtUp(t);
    const login = (await readEvents(t)).filter((e) => e.type === "UserLoggedIn").at(-1);
    expect(login).toMatchObject({
      aggregateId: ok.userId,
      actor: { kind: "user", userId: ok.userId, email: "First@Example.com" },
      payload: { ip: "192.0.2.10", userAgent: "vitest" },
    });

    // The session holds while the user is live; it is refused once they are deleted.
    expect(await principalFromSession(t.db, ok.secret)).toMatchObject({ kind: "user", userId: ok.userId });
    const user = await t.db.user.findUniqueOrThrow({ where: { id: ok.userId } });
    const deleted = await deleteUser(t.deps, t.ctx, { userId: ok.userId, expectedVersion: user.version });
    await waitForProjection(t.db, t.config.PROJECTOR_GROUP_ID, deleted.events, 15_000);
    expect(await principalFromSession(t.db, ok.secret)).toBeNull();
    expect(await signIn(t.deps, { email: "first@example.com", password }, meta)).toEqual(unknown);
  });
});

describe("granting", () => {
  it("users:write alone cannot hand out, take away or delete more than it holds", async () => {
    const limited = { actor: { kind: "service" as const, name: "limited" }, grantable: new Set(["users:read", "users:write"]) };
    const full = { actor: { kind: "service" as const, name: "full" }, grantable: new Set<string>(BUILT_IN_ROLES.admin.permissions) };
    const helpdesk = await createRole(t.deps, full, { name: "helpdesk", permissions: ["users:read"] });
    const target = await createUser(t.deps, t.ctx, { email: "target@example.com", name: "Target" });
    const userId = target.aggregateId;

    const refused = { code: "forbidden" };
    await expect(assignRole(t.deps, limited, { userId, roleId: BUILT_IN_ROLES.admin.id })).rejects.toMatchObject(refused);
    await expect(createRole(t.deps, limited, { name: "sneaky", permissions: ["tokens:manage"] })).rejects.toMatchObject(refused);
    await expect(
      updateRole(t.deps, limited, { roleId: helpdesk.aggregateId, expectedVersion: 1, permissions: ["users:read", "roles:write"] }),
    ).rejects.toMatchObject(refused);

    // Within its own permissions it works.
    await assignRole(t.deps, limited, { userId, roleId: helpdesk.aggregateId });
    // Someone holding admin can be neither stripped of it nor deleted by it.
    await assignRole(t.deps, full, { userId, roleId: BUILT_IN_ROLES.admin.id });
    await expect(unassignRole(t.deps, limited, { userId, roleId: BUILT_IN_ROLES.admin.id })).rejects.toMatchObject(refused);
    await expect(deleteUser(t.deps, limited, { userId, expectedVersion: 3 })).rejects.toMatchObject(refused);
    await deleteUser(t.deps, full, { userId, expectedVersion: 3 });
  });
});
