// Programmatic wrappers around the Prisma CLI, for the test runner and
// `npm start`. They spawn the CLI (rather than importing it) because the CLI
// is a bundled program, not a library; prisma.config.ts, picked up from the
// repo root, routes it to our WASM schema engine.
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const prismaBin = path.join(repoRoot, "node_modules", ".bin", process.platform === "win32" ? "prisma.cmd" : "prisma");

export type PrismaRun = { code: number; output: string };

/** Run `prisma ...args` from the repo root against `databaseUrl`; never throws on a non-zero exit. */
export function runPrisma(args: string[], databaseUrl: string): Promise<PrismaRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(prismaBin, args, {
      cwd: repoRoot,
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        // No update check or telemetry round trip: the network is closed here.
        CHECKPOINT_DISABLE: "1",
        PRISMA_HIDE_UPDATE_MESSAGE: "1",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), output }));
  });
}

/** Apply pending migrations from prisma/migrations (`prisma migrate deploy`). */
export async function migrateDeploy(databaseUrl: string): Promise<void> {
  const { code, output } = await runPrisma(["migrate", "deploy"], databaseUrl);
  if (code !== 0) throw new Error(`prisma migrate deploy failed (exit ${code}):\n${output}`);
}

export type MigrationCheckOptions = {
  /** Defaults to prisma/schema.prisma. */
  schemaPath?: string;
  /** Defaults to prisma/migrations. */
  migrationsDir?: string;
};

/**
 * Throw unless replaying the migrations yields exactly the schema, i.e. nobody
 * edited schema.prisma without running `prisma migrate dev`. Replaying needs a
 * shadow database: the schema engine creates and drops a temporary one through
 * `databaseUrl`, whose role therefore needs CREATEDB. The database itself is
 * not modified.
 */
export async function assertMigrationsMatchSchema(databaseUrl: string, options: MigrationCheckOptions = {}): Promise<void> {
  const schemaPath = path.resolve(repoRoot, options.schemaPath ?? "prisma/schema.prisma");
  const migrationsDir = path.resolve(repoRoot, options.migrationsDir ?? "prisma/migrations");
  const { code, output } = await runPrisma(
    ["migrate", "diff", "--from-migrations", migrationsDir, "--to-schema", schemaPath, "--script", "--exit-code"],
    databaseUrl,
  );
  // --exit-code: 0 = no difference, 2 = difference, anything else = error.
  // A 0 is trusted only with the positive evidence of an empty diff and no
  // error in the output: this check exists to fail, and an engine that died
  // mid-request once made the CLI exit 0 having printed nothing at all.
  if (code === 0 && EMPTY_DIFF.test(output) && !ERROR_LINE.test(output)) return;
  if (code === 2 && !ERROR_LINE.test(output)) {
    throw new Error(
      `${path.relative(repoRoot, schemaPath)} differs from what ${path.relative(repoRoot, migrationsDir)} produce. ` +
        `Create a migration with \`npx prisma migrate dev --name <change>\` and commit it. SQL still missing from the migrations:\n${output}`,
    );
  }
  const why = code === 0 || code === 2 ? `exit ${code}, but the output is not a clean result` : `exit ${code}`;
  throw new Error(`prisma migrate diff failed (${why}):\n${output}`);
}

/** What `migrate diff --script` prints when there is no difference. */
const EMPTY_DIFF = /^-- This is an empty migration\.$/m;
/** How the CLI starts an error it prints (`Error: ...`), including the engine's. */
const ERROR_LINE = /^Error:/m;
