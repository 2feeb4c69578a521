import { describe, expect, it } from "vitest";
import { summarizeUserEvent } from "./summarize-user-event";

const text = (type: string, payload: unknown) => summarizeUserEvent(type, payload)?.text;

describe("summarizeUserEvent: the security events' labels (timeline and activity feed)", () => {
  it("reads each one as a sentence, with where it came from", () => {
    expect(text("UserPasswordSet", { reset: false })).toBe("Password set");
    expect(text("UserPasswordSet", { reset: true })).toBe("Password reset");
    expect(text("UserSessionsEnded", { reason: "password-reset", count: 1 })).toBe("1 session ended by the password reset");
    expect(text("UserSessionsEnded", { reason: "ended-by-admin", count: 3 })).toBe("Signed out everywhere by an administrator (3 sessions ended)");
    expect(text("UserLoginFailed", { reason: "wrong-password", ip: "192.0.2.7", userAgent: "Firefox" })).toBe(
      "Sign-in failed: wrong password from 192.0.2.7 (Firefox)",
    );
    expect(text("UserLoginFailed", { reason: "no-access", ip: null, userAgent: null })).toBe("Sign-in failed: no role grants console access");
    expect(text("UserLoggedOut", { ip: "192.0.2.7", userAgent: null })).toBe("Signed out from 192.0.2.7");
  });

  it("shows no summary for a payload it cannot read", () => {
    expect(summarizeUserEvent("UserLoginFailed", { reason: "guessed" })).toEqual({ text: null, related: null });
  });
});
