/**
 * End-to-end tests drive the real console (started by `npm test`, which sets
 * BASE_URL) in Debian's Chromium: Playwright's own browser download cannot
 * work on these machines, so the executable is the system one.
 */
import { existsSync } from "node:fs";
import { defineConfig, devices } from "@playwright/test";

/**
 * Debian's chromium-headless-shell: Chromium's own headless browser (the one Playwright uses for
 * headless runs), which takes about half the CPU of the full browser in its new headless mode on
 * these 2 cores (the same specs ran 1.5-2x faster). The full browser is the fallback.
 */
const HEADLESS_SHELL = "/usr/lib/chromium/chromium-headless-shell";

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
    // A failed test keeps its trace: every action's DOM snapshot, network and console, and the
    // screenshot of where it stopped (below). Not the trace's screencast: recording and encoding a
    // frame per paint cost more than the tests did. Three specs on 2 cores took 119-121 s with it,
    // 78 s without it, and 60 s with no trace at all (2026-12-02).
    trace: { mode: "retain-on-failure", screenshots: false, snapshots: true, sources: true },
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? (existsSync(HEADLESS_SHELL) ? HEADLESS_SHELL : "/usr/bin/chromium"),
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
