// Prisma 7 CLI configuration (generate, migrate). The runtime client does not
// read this file: lib/db.ts builds its own adapter from DATABASE_URL.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadEnvConfig } from "@next/env";
import { defineConfig } from "prisma/config";

const root = path.dirname(fileURLToPath(import.meta.url));

// Same .env files, same precedence as `next dev`/`next build`, so the CLI and
// the app never disagree about DATABASE_URL. Already-set variables win.
loadEnvConfig(root, process.env.NODE_ENV !== "production", { info: () => {}, error: console.error });

// The CLI would otherwise download a native schema-engine binary from a host
// this network cannot reach. Our stand-in runs the WASM build of the same
// engine; see infra/prisma/README.md. An explicit setting still wins.
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= path.join(root, "infra/prisma/schema-engine.mjs");

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  // Left undefined when DATABASE_URL is unset: `prisma generate` does not need
  // it, and migrate commands then fail with Prisma's own clear message.
  datasource: { url: process.env.DATABASE_URL },
});
