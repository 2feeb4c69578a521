import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const root = fileURLToPath(new URL(".", import.meta.url));
const alias = { "@": root.replace(/\/$/, "") };

export default defineConfig({
  test: {
    // One broker and one PostgreSQL on 2 cores: integration files run one at a
    // time, each on its own database, topics and consumer group.
    fileParallelism: false,
    projects: [
      {
        resolve: { alias },
        test: { name: "unit", include: ["**/*.unit.test.ts"], exclude: ["node_modules/**", ".data/**"] },
      },
      {
        resolve: { alias },
        test: {
          name: "integration",
          include: ["**/*.int.test.ts"],
          exclude: ["node_modules/**", ".data/**", "infra/prisma/**"],
          testTimeout: 90_000,
          hookTimeout: 120_000,
        },
      },
      {
        // The offline Prisma toolchain (infra/prisma) against PostgreSQL alone: scripts/test.ts runs
        // it in the other track than the integration tests, to even out the two.
        resolve: { alias },
        test: {
          name: "prisma",
          include: ["infra/prisma/**/*.int.test.ts"],
          testTimeout: 90_000,
          hookTimeout: 120_000,
        },
      },
      {
        // npm start as real process trees (scripts/test.ts runs it after the end-to-end stage,
        // whose console build they reuse).
        resolve: { alias },
        test: {
          name: "lifecycle",
          include: ["**/*.lifecycle.test.ts"],
          exclude: ["node_modules/**", ".data/**"],
          testTimeout: 300_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
