import { describe, expect, it } from "vitest";
import { DecryptionError, newDataKey, open, seal } from "./aead";
import { keyEncryptionKeySchema, localKeyWrapper } from "./key-wrapper";

describe("AES-256-GCM seal/open", () => {
  const key = newDataKey();

  it("round-trips, with a fresh IV each time", () => {
    const a = seal(key, "ada@example.com", "event-1");
    const b = seal(key, "ada@example.com", "event-1");
    expect(a).not.toBe(b);
    expect(open(key, a, "event-1").toString("utf8")).toBe("ada@example.com");
  });

  it("refuses a tampered ciphertext", () => {
    const sealed = Buffer.from(seal(key, "ada@example.com", "event-1"), "base64url");
    sealed[14] = sealed[14]! ^ 1;
    expect(() => open(key, sealed.toString("base64url"), "event-1")).toThrow(DecryptionError);
  });

  it("refuses other associated data (a ciphertext moved to another event)", () => {
    expect(() => open(key, seal(key, "x", "event-1"), "event-2")).toThrow(DecryptionError);
  });

  it("refuses another key", () => {
    expect(() => open(newDataKey(), seal(key, "x", "event-1"), "event-1")).toThrow(DecryptionError);
  });
});

describe("key wrapping", () => {
  it("wraps and unwraps a data key bound to its context", async () => {
    const wrapper = localKeyWrapper(newDataKey());
    const dataKey = newDataKey();
    const wrapped = await wrapper.wrap(dataKey, "subject:1");
    expect((await wrapper.unwrap(wrapped, "subject:1")).equals(dataKey)).toBe(true);
    await expect(wrapper.unwrap(wrapped, "subject:2")).rejects.toThrow(DecryptionError);
  });

  it("reads a KEK as hex or base64 and refuses another length", () => {
    const bytes = newDataKey();
    expect(keyEncryptionKeySchema.parse(bytes.toString("hex")).equals(bytes)).toBe(true);
    expect(keyEncryptionKeySchema.parse(bytes.toString("base64")).equals(bytes)).toBe(true);
    expect(keyEncryptionKeySchema.safeParse("c2hvcnQ=").success).toBe(false);
  });
});
