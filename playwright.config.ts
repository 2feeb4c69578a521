/**
 * End-to-end tests drive the real console (started by `npm test`, which sets
 * BASE_URL) in Debian's Chromium: Playwright's own browser download cannot
 * work on these machines, so the executable is the system one.
 */
import { defineConfig, devices } from "@playwright/test";

const baseURL = process.env.BASE_URL;
if (!baseURL) throw new Error("BASE_URL is not set: run the end-to-end tests through `npm test` (it starts the stack).");

export default defineConfig({
  testDir: "./e2e",
  outputDir: "./test-results/e2e",
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 1,
  // Journeys across several pages on 2 cores shared with the integration tests (scripts/test.ts).
  timeout: 120_000,
  expect: { timeout: 15_000 },
  reporter: [["list"], ["json"]],
  use: {
    baseURL,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  projects: [
    // Signs the first admin in once; every other spec starts from that stored session.
    { name: "setup", testMatch: /auth\.setup\.ts/ },
    {
      name: "chromium",
      use: { ...devices["Desktop Chrome"], storageState: "test-results/.auth/admin.json" },
      dependencies: ["setup"],
    },
  ],
});
