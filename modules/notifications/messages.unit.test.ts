/** Which events produce which message, and what the messages say (pure: no I/O). */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { DomainEvent } from "@/modules";
import { event } from "@/test/fixtures";
import { NOTHING_KNOWN, type Known } from "./known";
import { planEmail, planSlack, slackEscape } from "./messages";

const settings = { consoleUrl: "https://console.example" };
const userId = randomUUID();
const roleId = randomUUID();
const ada: Known = {
  user: { id: userId, email: "ada@example.com", name: "Ada Lovelace", isDeleted: false, version: 1 },
  role: null,
};
const admin = (known: Known, name = "admin"): Known => ({ ...known, role: { id: roleId, name, version: 1 } });

const assigned = (roleName: string) => event("RoleAssignedToUser", userId, 2, { roleId, roleName });
const unassigned = (roleName: string, reason: "unassigned" | "role-deleted" = "unassigned") =>
  event("RoleUnassignedFromUser", userId, 3, { roleId, roleName, reason });

describe("email notifier", () => {
  it("welcomes a new user at the address the event carries", () => {
    const created = event("UserCreated", userId, 1, { email: "ada@example.com", name: "Ada Lovelace" });
    const mail = planEmail(created, NOTHING_KNOWN, settings);
    expect(mail).toMatchObject({ kind: "welcome", to: { name: "Ada Lovelace", address: "ada@example.com" }, subject: "Welcome, Ada Lovelace" });
    expect(mail?.text).toContain("Hello Ada Lovelace");
    expect(mail?.text).toContain("https://console.example");
    expect(mail?.text).toContain(created.id);
  });

  it("tells the user about a role given and taken, by whom, with a link to their page", () => {
    const given = planEmail(assigned("ops"), ada, settings);
    expect(given).toMatchObject({ kind: "role-assigned", to: { address: "ada@example.com" }, subject: 'You now have the role "ops"' });
    expect(given?.text).toContain('you have been given the role "ops" by the service "unit-test"');
    expect(given?.text).toContain(`https://console.example/users/${userId}`);

    const taken = planEmail(unassigned("ops"), ada, settings);
    expect(taken).toMatchObject({ kind: "role-unassigned", subject: 'The role "ops" was removed from your account' });
    expect(taken?.text).toContain('the role "ops" has been removed from your account by the service "unit-test"');
    expect(planEmail(unassigned("ops", "role-deleted"), ada, settings)?.text).toContain("because the role was deleted");
  });

  it("names the role as the notifier knows it now, else as the event carries it", () => {
    expect(planEmail(assigned("ops"), admin(ada, "operations"), settings)?.subject).toBe('You now have the role "operations"');
    expect(planEmail(assigned("ops"), ada, settings)?.subject).toBe('You now have the role "ops"');
  });

  it("names an admin by name and email", () => {
    const e = { ...assigned("ops"), actor: { kind: "user", userId: randomUUID(), email: "boss@example.com", name: "Boss" } } as DomainEvent;
    expect(planEmail(e, ada, settings)?.text).toContain("by Boss (boss@example.com)");
  });

  it("sends nothing to a user it does not know or knows as deleted, nor for other events", () => {
    expect(planEmail(assigned("ops"), NOTHING_KNOWN, settings)).toBeNull();
    expect(planEmail(assigned("ops"), { ...ada, user: { ...ada.user!, isDeleted: true } }, settings)).toBeNull();
    const others: DomainEvent[] = [
      event("UserUpdated", userId, 2, { name: "Ada" }),
      event("UserDeleted", userId, 3, {}),
      event("UserLoggedIn", userId, 4, { ip: null, userAgent: null }),
      event("RoleCreated", roleId, 1, { name: "ops", description: "" }),
      event("RoleUpdated", roleId, 2, { name: "admin" }),
      event("RoleDeleted", roleId, 3, {}),
    ];
    for (const e of others) expect(planEmail(e, ada, settings)).toBeNull();
  });
});

describe("Slack notifier", () => {
  it("reports a user gaining and losing the admin role", () => {
    const granted = planSlack(assigned("admin"), ada, settings);
    expect(granted).toEqual({
      kind: "admin-granted",
      text: `:key: *Ada Lovelace* (ada@example.com) was given the *admin* role by the service "unit-test". <https://console.example/users/${userId}|Open in the console>`,
    });
    expect(planSlack(unassigned("admin"), ada, settings)).toMatchObject({
      kind: "admin-revoked",
      text: expect.stringContaining("lost the *admin* role by the service"),
    });
    expect(planSlack(unassigned("Admin ", "role-deleted"), ada, settings)?.text).toContain("lost the *admin* role because the role was deleted");
  });

  it("decides by the role's current name when it knows the role", () => {
    expect(planSlack(assigned("ops"), admin(ada, "admin"), settings)?.kind).toBe("admin-granted");
    expect(planSlack(unassigned("admin"), admin(ada, "former-admin"), settings)).toBeNull();
  });

  it("ignores other roles and events", () => {
    expect(planSlack(assigned("ops"), ada, settings)).toBeNull();
    expect(planSlack(unassigned("administrators"), ada, settings)).toBeNull();
    expect(planSlack(event("UserCreated", userId, 1, { email: "a@example.com", name: "A" }), NOTHING_KNOWN, settings)).toBeNull();
    expect(planSlack(event("RoleUpdated", roleId, 2, { name: "admin" }), ada, settings)).toBeNull();
  });

  it("reports a deleted user, by id when it never saw the user", () => {
    expect(planSlack(event("UserDeleted", userId, 5, {}), ada, settings)?.text).toMatch(/^:wastebasket: \*Ada Lovelace\* \(ada@example.com\) was deleted by/);
    expect(planSlack(event("UserDeleted", userId, 5, {}), NOTHING_KNOWN, settings)?.text).toContain(`user ${userId} was deleted`);
  });

  it("escapes what Slack would read as markup", () => {
    expect(slackEscape("<@here> & co")).toBe("&lt;@here&gt; &amp; co");
    const known: Known = { ...ada, user: { ...ada.user!, name: "<!channel>" } };
    expect(planSlack(event("UserDeleted", userId, 5, {}), known, settings)?.text).toContain("*&lt;!channel&gt;*");
  });
});
