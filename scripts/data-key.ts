/**
 * The key-encryption key (DATA_KEY_ENCRYPTION_KEY, lib/crypto/key-wrapper.ts) for a local
 * `npm start`: the variable if set, else one generated once and kept in the data dir
 * (mode 0600), so what was sealed with it (webhook secrets) stays readable across starts.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

export async function localDataKey(dataDir: string, log: (line: string) => void): Promise<string> {
  if (process.env.DATA_KEY_ENCRYPTION_KEY) return process.env.DATA_KEY_ENCRYPTION_KEY;
  const file = path.join(dataDir, "data-key-encryption-key");
  try {
    return (await readFile(file, "utf8")).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  await mkdir(dataDir, { recursive: true });
  const key = randomBytes(32).toString("base64");
  await writeFile(file, `${key}\n`, { mode: 0o600, flag: "wx" });
  log(`DATA_KEY_ENCRYPTION_KEY is not set: generated one in ${path.relative(process.cwd(), file) || file} (keep it; set the variable to use your own)`);
  return key;
}
