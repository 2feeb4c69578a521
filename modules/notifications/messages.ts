/**
 * What each notifier says, as pure functions of an event and what the notifier
 * knew before it (no I/O: unit-tested in messages.unit.test.ts).
 *
 * Role names: the role's current name as this notifier knows it from the roles
 * topic, else the name the event carries (the name at assignment). The users
 * and roles topics are read independently, so an assignment can arrive before
 * the role's creation; the carried name covers that.
 */
import type { Actor } from "@/lib/events/envelope";
import { ERASED } from "@/lib/privacy/personal-data";
import type { DomainEvent } from "@/modules";
import type { Known } from "./known";
import type { Notification } from "@/lib/notify/subscriber";

/** The role whose gain or loss the Slack notifier reports (compared trimmed, case-insensitively). */
export const ADMIN_ROLE = "admin";

export interface MessageSettings {
  /** Base of links, without a trailing slash. */
  consoleUrl: string;
}

export interface EmailMessage extends Notification {
  kind: "welcome" | "role-assigned" | "role-unassigned";
  to: { name: string; address: string };
  subject: string;
  text: string;
}

export interface SlackMessage extends Notification {
  kind: "admin-granted" | "admin-revoked" | "user-deleted";
  /** Slack mrkdwn; user input escaped. */
  text: string;
}

const roleName = (known: Known, carried: string) => known.role?.name ?? carried;
const isAdmin = (name: string) => name.trim().toLowerCase() === ADMIN_ROLE;
const userLink = (settings: MessageSettings, userId: string) => `${settings.consoleUrl}/users/${userId}`;

/** Who did it, in words. */
export function actorLabel(actor: Actor): string {
  if (actor.kind === "service") return `the service "${actor.name}"`;
  return actor.name ? `${actor.name} (${actor.email})` : actor.email;
}

const signature = (event: DomainEvent) =>
  `\n-- \nSent by the admin console's email notifier (event ${event.id}).\n`;

/** The welcome mail and the role notices. Nothing for a user this notifier does not know or knows as deleted. */
/**
 * Nothing is ever sent about an erased person: once their key is gone their data reads
 * ERASED (lib/privacy), and a notifier replaying the log from the beginning must stay silent
 * about them.
 */
const aboutErasedPerson = (event: DomainEvent, known: Known) =>
  known.user?.email === ERASED || (event.type === "UserCreated" && event.payload.email === ERASED);

export function planEmail(event: DomainEvent, known: Known, settings: MessageSettings): EmailMessage | null {
  if (aboutErasedPerson(event, known)) return null;
  switch (event.type) {
    case "UserCreated": {
      const { email, name } = event.payload;
      return {
        kind: "welcome",
        to: { name, address: email },
        subject: `Welcome, ${name}`,
        text:
          `Hello ${name},\n\nan account has been created for you with the address ${email}.\n\n` +
          `The console: ${settings.consoleUrl}\n` +
          signature(event),
      };
    }
    case "RoleAssignedToUser":
    case "RoleUnassignedFromUser": {
      const user = known.user;
      if (!user || user.isDeleted) return null;
      const role = roleName(known, event.payload.roleName);
      const assigned = event.type === "RoleAssignedToUser";
      const why = assigned
        ? `by ${actorLabel(event.actor)}`
        : event.payload.reason === "role-deleted"
          ? "because the role was deleted"
          : `by ${actorLabel(event.actor)}`;
      return {
        kind: assigned ? "role-assigned" : "role-unassigned",
        to: { name: user.name, address: user.email },
        subject: assigned ? `You now have the role "${role}"` : `The role "${role}" was removed from your account`,
        text:
          `Hello ${user.name},\n\n` +
          (assigned ? `you have been given the role "${role}" ${why}.` : `the role "${role}" has been removed from your account ${why}.`) +
          `\n\nYour account in the console: ${userLink(settings, user.id)}\n` +
          signature(event),
      };
    }
    case "UserUpdated":
    case "UserDeleted":
    case "UserLoggedIn":
    case "UserErased":
    case "UserPasswordSet":
    case "UserSessionsEnded":
    case "UserLoginFailed":
    case "UserLoggedOut":
    case "RoleCreated":
    case "RoleUpdated":
    case "RoleDeleted":
    case "ApiTokenCreated":
    case "ApiTokenRevoked":
      return null;
    default: {
      const never: never = event;
      return never;
    }
  }
}

/** Slack mrkdwn needs &, < and > escaped; everything else is literal. */
export const slackEscape = (text: string) => text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");

/** A user as Slack shows them: name and email when known, else the id. */
function slackUser(known: Known, userId: string): string {
  const u = known.user;
  return u ? `*${slackEscape(u.name)}* (${slackEscape(u.email)})` : `user ${userId}`;
}

/** A user gaining or losing the admin role, and a user deleted. */
export function planSlack(event: DomainEvent, known: Known, settings: MessageSettings): SlackMessage | null {
  if (aboutErasedPerson(event, known)) return null;
  const link = `<${userLink(settings, event.aggregateId)}|Open in the console>`;
  const by = `by ${slackEscape(actorLabel(event.actor))}`;
  switch (event.type) {
    case "RoleAssignedToUser":
      if (!isAdmin(roleName(known, event.payload.roleName))) return null;
      return { kind: "admin-granted", text: `:key: ${slackUser(known, event.aggregateId)} was given the *admin* role ${by}. ${link}` };
    case "RoleUnassignedFromUser": {
      if (!isAdmin(roleName(known, event.payload.roleName))) return null;
      const why = event.payload.reason === "role-deleted" ? "because the role was deleted" : by;
      return { kind: "admin-revoked", text: `:lock: ${slackUser(known, event.aggregateId)} lost the *admin* role ${why}. ${link}` };
    }
    case "UserDeleted":
      return { kind: "user-deleted", text: `:wastebasket: ${slackUser(known, event.aggregateId)} was deleted ${by}. ${link}` };
    case "UserCreated":
    case "UserUpdated":
    case "UserLoggedIn":
    case "UserErased":
    case "UserPasswordSet":
    case "UserSessionsEnded":
    case "UserLoginFailed":
    case "UserLoggedOut":
    case "RoleCreated":
    case "RoleUpdated":
    case "RoleDeleted":
    case "ApiTokenCreated":
    case "ApiTokenRevoked":
      return null;
    default: {
      const never: never = event;
      return never;
    }
  }
}
