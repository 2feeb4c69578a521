// Programmatic wrappers around the Prisma CLI, for the test runner and
// `npm start`. They spawn the CLI (rather than importing it) because the CLI
// is a bundled program, not a library; prisma.config.ts, picked up from the
// repo root, routes it to our WASM schema engine.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { databaseUrl } from "../postgres";

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

/**
 * A database `name` holding every committed migration, made by copying a migrated template
 * (`CREATE DATABASE … TEMPLATE`: a file copy, a fraction of a second) instead of replaying the
 * migrations each time (a schema-engine process per database, 4-8 s on a busy 2-core machine).
 * The template is named after a hash of prisma/migrations, so a changed or added migration gets
 * a new one and a server kept between runs never hands out a stale schema. It is built once per
 * server, under an advisory lock (test files may race), and renamed into place only once fully
 * migrated, so a run killed midway leaves no half-built template behind. No session stays
 * connected to it: PostgreSQL refuses to copy a database someone is using.
 */
export async function createMigratedDatabase(adminUrl: string, name: string): Promise<void> {
  const template = `migrated_${migrationsHash()}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const exists = async (db: string) => (await client.query("select 1 from pg_database where datname = $1", [db])).rowCount === 1;
    if (!(await exists(template))) {
      await client.query("select pg_advisory_lock(hashtext($1))", [template]);
      try {
        if (!(await exists(template))) {
          const building = `${template}_building`;
          await client.query(`drop database if exists ${client.escapeIdentifier(building)} with (force)`);
          await client.query(`create database ${client.escapeIdentifier(building)}`);
          await migrateDeploy(databaseUrl(adminUrl, building));
          await client.query(`alter database ${client.escapeIdentifier(building)} rename to ${client.escapeIdentifier(template)}`);
        }
      } finally {
        await client.query("select pg_advisory_unlock(hashtext($1))", [template]);
      }
    }
    await client.query(`create database ${client.escapeIdentifier(name)} template ${client.escapeIdentifier(template)}`);
  } finally {
    await client.end();
  }
}

/** Names and contents of every migration file, hashed (12 hex digits). */
function migrationsHash(): string {
  const dir = path.join(repoRoot, "prisma", "migrations");
  const hash = createHash("sha256");
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name)).sort()) {
    hash.update(path.relative(dir, entry)).update("\0").update(fs.readFileSync(entry)).update("\0");
  }
  return hash.digest("hex").slice(0, 12);
}
