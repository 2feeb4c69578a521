/**
 * A one-line summary of a stored user event for the feeds (lib/events/display.ts);
 * null for another module's type. No server imports: the timeline (a client
 * component) shows the security events with the same words.
 */
import { z } from "zod";
import { NO_SUMMARY, type EventSummary } from "@/lib/events/display";
import { userPayloadSchemas } from "../domain/events";

export function summarizeUserEvent(type: string, payload: unknown): EventSummary | null {
  switch (type) {
    case "UserCreated": {
      // Not the strict schema: after an erasure both fields read "[erased]", which is no email address.
      const p = createdSummary.safeParse(payload);
      return p.success ? { text: `${p.data.name} <${p.data.email}>`, related: null } : NO_SUMMARY;
    }
    case "UserErased": {
      const p = userPayloadSchemas.UserErased.safeParse(payload);
      return p.success ? { text: `Personal data erased: ${p.data.reason}`, related: null } : NO_SUMMARY;
    }
    case "UserLoggedIn": {
      const p = userPayloadSchemas.UserLoggedIn.safeParse(payload);
      return p.success && p.data.ip ? { text: `from ${p.data.ip}`, related: null } : NO_SUMMARY;
    }
    case "UserPasswordSet": {
      const p = userPayloadSchemas.UserPasswordSet.safeParse(payload);
      return p.success ? { text: p.data.reset ? "Password reset" : "Password set", related: null } : NO_SUMMARY;
    }
    case "UserSessionsEnded": {
      const p = userPayloadSchemas.UserSessionsEnded.safeParse(payload);
      if (!p.success) return NO_SUMMARY;
      const sessions = `${p.data.count} session${p.data.count === 1 ? "" : "s"}`;
      const text = p.data.reason === "ended-by-admin" ? `Signed out everywhere by an administrator (${sessions} ended)` : `${sessions} ended by the password reset`;
      return { text, related: null };
    }
    case "UserLoginFailed": {
      const p = userPayloadSchemas.UserLoginFailed.safeParse(payload);
      if (!p.success) return NO_SUMMARY;
      return { text: `Sign-in failed: ${LOGIN_FAILURES[p.data.reason]}${client(p.data)}`, related: null };
    }
    case "UserLoggedOut": {
      const p = userPayloadSchemas.UserLoggedOut.safeParse(payload);
      return p.success ? { text: `Signed out${client(p.data)}`, related: null } : NO_SUMMARY;
    }
    case "RoleAssignedToUser": {
      const p = userPayloadSchemas.RoleAssignedToUser.safeParse(payload);
      if (!p.success) return NO_SUMMARY;
      return { text: null, related: { kind: "role", id: p.data.roleId, label: p.data.roleName } };
    }
    case "RoleUnassignedFromUser": {
      const p = userPayloadSchemas.RoleUnassignedFromUser.safeParse(payload);
      if (!p.success) return NO_SUMMARY;
      return {
        text: p.data.reason === "role-deleted" ? "(role deleted)" : null,
        related: { kind: "role", id: p.data.roleId, label: p.data.roleName },
      };
    }
    case "UserUpdated":
    case "UserDeleted":
      return NO_SUMMARY;
    default:
      return null;
  }
}

const createdSummary = z.object({ email: z.string(), name: z.string() });

const LOGIN_FAILURES = {
  "wrong-password": "wrong password",
  "no-password": "no password set",
  "no-access": "no role grants console access",
} as const;

const client = ({ ip, userAgent }: { ip: string | null; userAgent: string | null }) =>
  `${ip ? ` from ${ip}` : ""}${userAgent ? ` (${userAgent})` : ""}`;
