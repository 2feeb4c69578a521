/** Random secrets for cookies and tokens, and the one-way digest that is all the database keeps of them. */
import { createHash, randomBytes } from "node:crypto";

/** 32 random bytes, base64url: unguessable, so a plain SHA-256 (no salt, no slow hash) is enough to store it. */
export const newSecret = () => randomBytes(32).toString("base64url");

export const digest = (secret: string) => createHash("sha256").update(secret).digest("hex");
