import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { parseLocalTime } from "../application/subscriptions";
import { selectSubscriptions } from "./dispatcher";
import { newSigningSecret, signHeaders } from "./signature";
import { refusedAddress } from "./target-guard";

describe("signHeaders", () => {
  it("signs as Standard Webhooks says: the library verifies it, with either secret during a rotation", () => {
    const current = newSigningSecret();
    const previous = newSigningSecret();
    const body = JSON.stringify({ id: "e1", type: "UserCreated" });
    const headers = signHeaders([current.bytes, previous.bytes], "e1", new Date(), body);
    expect(headers["webhook-signature"].split(" ")).toHaveLength(2);
    expect(new Webhook(current.text).verify(body, { ...headers })).toEqual({ id: "e1", type: "UserCreated" });
    expect(new Webhook(previous.text).verify(body, { ...headers })).toEqual({ id: "e1", type: "UserCreated" });
    expect(() => new Webhook(newSigningSecret().text).verify(body, { ...headers })).toThrow();
    expect(() => new Webhook(current.text).verify(`${body} `, { ...headers })).toThrow();
  });
});

describe("refusedAddress", () => {
  it.each(["127.0.0.1", "10.0.0.8", "172.20.1.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "::", "fe80::1", "fd00::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1"])(
    "refuses %s",
    (address) => expect(refusedAddress(address)).toMatch(/loopback, private or link-local/),
  );
  it.each(["93.184.215.14", "1.1.1.1", "172.32.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"])("allows %s", (address) =>
    expect(refusedAddress(address)).toBeNull(),
  );
});

describe("selectSubscriptions", () => {
  const created = new Date("2026-01-01T00:00:00Z");
  const subs = [
    { id: "all", eventTypes: [], createdAt: created },
    { id: "users", eventTypes: ["UserCreated"], createdAt: created },
    { id: "later", eventTypes: [], createdAt: new Date("2026-06-01T00:00:00Z") },
  ];
  it("selects by event type, and only what was logged from a subscription's creation on", () => {
    expect(selectSubscriptions(subs, "UserCreated", new Date("2026-02-01T00:00:00Z"))).toEqual(["all", "users"]);
    expect(selectSubscriptions(subs, "RoleCreated", new Date("2026-07-01T00:00:00Z"))).toEqual(["all", "later"]);
    expect(selectSubscriptions(subs, "RoleCreated", new Date("2025-12-31T23:59:59Z"))).toEqual([]);
  });
});

describe("parseLocalTime", () => {
  it("reads a datetime-local value in the browser's zone, or an ISO time with its zone", () => {
    expect(parseLocalTime("2026-11-30T17:05", -60)?.toISOString()).toBe("2026-11-30T16:05:00.000Z");
    expect(parseLocalTime("2026-11-30T17:05:30", 0)?.toISOString()).toBe("2026-11-30T17:05:30.000Z");
    expect(parseLocalTime("2026-11-30T17:05:00.000Z", 120)?.toISOString()).toBe("2026-11-30T17:05:00.000Z");
    expect(parseLocalTime("", 0)).toBeNull();
    expect(parseLocalTime("yesterday", 0)).toBeNull();
  });
});
