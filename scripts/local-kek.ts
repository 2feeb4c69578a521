/**
 * For local use only: the key-encryption key of the personal-data keys
 * (DATA_KEY_ENCRYPTION_KEY, README "Privacy and erasure"), kept in a file
 * under the data directory and generated on first start. In production it
 * comes from configuration (a secret store or a KMS), never from a file beside
 * the database it protects.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { keyEncryptionKeySchema } from "@/lib/crypto/key-wrapper";

export function ensureLocalKeyEncryptionKey(dataDir: string, log: (line: string) => void): void {
  const given = process.env.DATA_KEY_ENCRYPTION_KEY;
  if (given) {
    const parsed = keyEncryptionKeySchema.safeParse(given);
    if (!parsed.success) throw new Error(`DATA_KEY_ENCRYPTION_KEY: ${parsed.error.issues[0]?.message}`);
    return;
  }
  const file = path.join(dataDir, "keys", "data-key-encryption-key");
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, `${randomBytes(32).toString("base64")}\n`, { mode: 0o600, flag: "wx" });
    log(`generated a key-encryption key for personal data in ${path.relative(process.cwd(), file) || file}`);
    log("  (local use only: without it every name and email in the log is unreadable; set DATA_KEY_ENCRYPTION_KEY in production)");
  }
  const key = readFileSync(file, "utf8").trim();
  const parsed = keyEncryptionKeySchema.safeParse(key);
  if (!parsed.success) throw new Error(`${file}: ${parsed.error.issues[0]?.message}`);
  process.env.DATA_KEY_ENCRYPTION_KEY = key;
}
