/**
 * First start: the built-in roles (admin, viewer) are created through the
 * normal RoleCreated path, so they are in the log like any other role; then,
 * while nobody can sign in yet, the first administrator comes either from
 * ADMIN_EMAIL / ADMIN_PASSWORD or from a one-time setup link printed on the
 * console output. Idempotent, and serialised across console replicas by a
 * PostgreSQL advisory lock.
 */
import { z } from "zod";
import type { CommandContext, CommandDeps } from "@/lib/command/execute";
import { parseInput } from "@/lib/command/validate";
import { invariant } from "@/lib/errors";
import { waitForProjection } from "@/lib/command/wait-for-projection";
import { ensureBuiltInRole } from "@/modules/roles/application/role-commands";
import { assignRole, createUser } from "@/modules/users/application/user-commands";
import { emailSchema, personNameSchema } from "@/modules/users/domain/events";
import { passwordSchema } from "@/lib/auth/password";
import { BUILT_IN_ROLES } from "@/lib/auth/permissions";
import { digest, newSecret } from "@/lib/auth/secrets";
import { setPassword } from "./account-security";

/** The actor of what the console does on its own (built-in roles, the first admin from the environment). */
export const SYSTEM_CONTEXT: CommandContext = { actor: { kind: "service", name: "admin-console" } };

const SETUP_TTL_MS = 60 * 60_000;
const LOCK_KEY = 7_243_901; // any constant shared by every replica

export type BootstrapOutcome =
  | { kind: "ready" } // someone can already sign in
  | { kind: "admin-created"; email: string }
  | { kind: "setup-link"; url: string; expiresAt: Date };

export async function bootstrapAccess(
  deps: CommandDeps,
  options: {
    adminEmail?: string;
    adminPassword?: string;
    adminName?: string;
    consoleUrl: string;
    /** The read model's consumer group: the first admin can sign in once it has projected them. */
    projectorGroup: string;
  },
): Promise<BootstrapOutcome> {
  return deps.db.$transaction(
    async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${LOCK_KEY})`;
      for (const role of Object.values(BUILT_IN_ROLES)) await ensureBuiltInRole(deps, SYSTEM_CONTEXT, role);
      if ((await deps.db.credential.count()) > 0) return { kind: "ready" } as const;
      if (options.adminEmail || options.adminPassword) {
        const input = { email: options.adminEmail, name: options.adminName, password: options.adminPassword };
        const admin = parseInput(firstAdminInput, { ...input, name: input.name ?? input.email?.split("@")[0] });
        await makeAdmin(deps, SYSTEM_CONTEXT, admin, "bootstrap", options.projectorGroup);
        return { kind: "admin-created", email: admin.email } as const;
      }
      const secret = newSecret();
      const expiresAt = new Date(Date.now() + SETUP_TTL_MS);
      await deps.db.setupToken.deleteMany({ where: { usedAt: null } });
      await deps.db.setupToken.create({ data: { tokenHash: digest(secret), expiresAt } });
      const url = `${options.consoleUrl.replace(/\/$/, "")}/setup?token=${secret}`;
      return { kind: "setup-link", url, expiresAt } as const;
    },
    { maxWait: 30_000, timeout: 120_000 },
  );
}

export const firstAdminInput = z.object({ email: emailSchema, name: personNameSchema, password: passwordSchema });

/**
 * The setup page's form: with a valid, unused setup token and still nobody
 * able to sign in, creates the first administrator. Returns the user id.
 */
export async function completeSetup(
  deps: CommandDeps,
  token: string,
  input: unknown,
  projectorGroup: string,
): Promise<string> {
  const admin = parseInput(firstAdminInput, input);
  return deps.db.$transaction(
    async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${LOCK_KEY})`;
      const row = await deps.db.setupToken.findUnique({ where: { tokenHash: digest(token) } });
      if (!row || row.usedAt || row.expiresAt.getTime() < Date.now() || (await deps.db.credential.count()) > 0) {
        throw invariant("This setup link is no longer valid: it was used, it expired, or an administrator already exists.");
      }
      const userId = await makeAdmin(deps, SYSTEM_CONTEXT, admin, "setup", projectorGroup);
      await deps.db.setupToken.update({ where: { tokenHash: row.tokenHash }, data: { usedAt: new Date() } });
      return userId;
    },
    { maxWait: 30_000, timeout: 120_000 },
  );
}

/** Creates the user (or finds the live one with that email), gives them the admin role and a password. */
async function makeAdmin(
  deps: CommandDeps,
  ctx: CommandContext,
  admin: z.infer<typeof firstAdminInput>,
  setBy: string,
  projectorGroup: string,
): Promise<string> {
  const reserved = await deps.db.emailReservation.findUnique({ where: { email: admin.email.toLowerCase() } });
  const created = reserved ? null : await createUser(deps, ctx, { email: admin.email, name: admin.name });
  const userId = reserved?.userId ?? created!.aggregateId;
  const assigned = await assignRole(deps, ctx, { userId, roleId: BUILT_IN_ROLES.admin.id });
  const passwordSet = await setPassword(deps, ctx, { userId, password: admin.password }, { updatedBy: setBy });
  // Sign-in reads the read model: let the projector catch up (bounded; sign-in works a moment later otherwise).
  const events = [...(created?.events ?? []), ...assigned.events, ...passwordSet.events];
  await waitForProjection(deps.db, projectorGroup, events, 10_000).catch(() => false);
  return userId;
}
