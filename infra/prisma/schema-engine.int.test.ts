// Integration tests for the offline Prisma toolchain: the WASM schema-engine
// stand-in (schema-engine.mjs), the migration-capable pg adapter, and the
// migrate.ts helpers, all through the real Prisma CLI and a real PostgreSQL.
// TEST_DATABASE_URL must point at a role with CREATEDB; every database this
// file creates is named bridge_scratch_* and dropped at the end.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertMigrationsMatchSchema, createMigratedDatabase, migrateDeploy, runPrisma } from "./migrate";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "../..");
const engineScript = path.join(here, "schema-engine.mjs");
const adminUrl = process.env.TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

const created: string[] = [];
function scratchUrl(label: string): string {
  const name = `bridge_scratch_${label}_${randomBytes(4).toString("hex")}`;
  created.push(name);
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

// A throwaway copy of prisma/ plus a config that points the CLI at it, so tests
// can edit the schema or add migrations without touching the repo.
async function workspace(): Promise<{ dir: string; config: string; schema: string; migrations: string }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "bridge-prisma-"));
  const schema = path.join(dir, "schema.prisma");
  const migrations = path.join(dir, "migrations");
  await fs.copyFile(path.join(repoRoot, "prisma/schema.prisma"), schema);
  await fs.cp(path.join(repoRoot, "prisma/migrations"), migrations, { recursive: true });
  // Plain object: `prisma/config` cannot be resolved from a temp dir.
  const config = path.join(dir, "prisma.config.mjs");
  await fs.writeFile(
    config,
    `export default { schema: ${JSON.stringify(schema)}, migrations: { path: ${JSON.stringify(migrations)} }, datasource: { url: process.env.DATABASE_URL } };\n`,
  );
  return { dir, config, schema, migrations };
}
const workspaces: string[] = [];

const appTables = [
  "api_token_events",
  "api_tokens",
  "consumer_partition_errors",
  "credentials",
  "dead_letters",
  "email_reservations",
  "idempotency_keys",
  "notifications_sent",
  "notifier_roles",
  "notifier_users",
  "personal_data_in_clear",
  "personal_data_keys",
  "projection_offsets",
  "projector_instances",
  "read_model_rebuilds",
  "role_deletions",
  "role_events",
  "role_membership_intervals",
  "roles",
  "sessions",
  "setup_tokens",
  "sign_in_failures",
  "streams",
  "user_events",
  "user_roles",
  "users",
  "webhook_attempts",
  "webhook_deliveries",
  "webhook_positions",
  "webhook_replays",
  "webhook_subscription_changes",
  "webhook_subscriptions",
];

beforeAll(() => {
  // Temp-dir configs do not go through prisma.config.ts, which normally sets this.
  process.env.PRISMA_SCHEMA_ENGINE_BINARY = engineScript;
});

afterAll(async () => {
  for (const name of created) {
    await query(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  }
  for (const dir of workspaces) await fs.rm(dir, { recursive: true, force: true });
});

describe("schema-engine.mjs", () => {
  it("answers --version with the engine hash the CLI was built for", async () => {
    const { stdout } = await promisify(execFile)(engineScript, ["--version"]);
    const cliRequire = createRequire(path.join(repoRoot, "node_modules/prisma/build/index.js"));
    const { enginesVersion } = cliRequire("@prisma/engines-version") as { enginesVersion: string };
    expect(stdout.trim()).toBe(`schema-engine-cli ${enginesVersion}`);
  });

  it("reports a missing database as P1003 to `cli can-connect-to-database`", async () => {
    const url = scratchUrl("missing");
    const run = promisify(execFile)(engineScript, ["--datasource", JSON.stringify({ url }), "cli", "can-connect-to-database"]);
    await expect(run).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('"error_code":"P1003"') });
  });
});

describe("migrate deploy", () => {
  it("creates every table in a fresh database, and is idempotent", async () => {
    const url = scratchUrl("deploy"); // does not exist yet: the CLI creates it through the engine
    await migrateDeploy(url);

    const tables = await query<{ table_name: string }>(
      url,
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    );
    expect(tables.map((t) => t.table_name)).toEqual(["_prisma_migrations", ...appTables].sort());
    const applied = await query<{ migration_name: string; finished_at: Date | null }>(
      url,
      "SELECT migration_name, finished_at FROM _prisma_migrations",
    );
    const onDisk = (await fs.readdir(path.join(repoRoot, "prisma/migrations"), { withFileTypes: true }))
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
    expect(applied.map((m) => m.migration_name).sort()).toEqual(onDisk.sort());
    expect(applied.every((m) => m.finished_at !== null)).toBe(true);

    await migrateDeploy(url); // nothing pending: must still succeed
  });

  it("createMigratedDatabase copies a template holding every migration (the integration tests' databases)", async () => {
    const url = scratchUrl("copied");
    const name = new URL(url).pathname.slice(1);
    await createMigratedDatabase(adminUrl, name);
    const tables = await query<{ table_name: string }>(url, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'");
    expect(tables.map((t) => t.table_name).sort()).toEqual(["_prisma_migrations", ...appTables].sort());
    const applied = await query<{ migration_name: string }>(url, "SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL");
    const onDisk = (await fs.readdir(path.join(repoRoot, "prisma/migrations"), { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
    expect(applied.map((m) => m.migration_name).sort()).toEqual(onDisk.sort());
    // The template is named after the migrations and left whole: no half-built copy remains.
    const templates = await query<{ datname: string }>(adminUrl, "SELECT datname FROM pg_database WHERE datname LIKE 'migrated\\_%'");
    expect(templates.some((t) => /^migrated_[0-9a-f]{12}$/.test(t.datname))).toBe(true);
    expect(templates.filter((t) => t.datname.endsWith("_building"))).toEqual([]);
  });

  it("fails with the CLI output when a migration is broken", async () => {
    const url = scratchUrl("broken");
    const ws = await workspace();
    workspaces.push(ws.dir);
    await fs.mkdir(path.join(ws.migrations, "29990101000000_broken"));
    await fs.writeFile(path.join(ws.migrations, "29990101000000_broken/migration.sql"), "ALTER TABLE no_such_table ADD COLUMN x int;\n");
    const { code, output } = await runPrisma(["migrate", "deploy", "--config", ws.config], url);
    expect(code).not.toBe(0);
    expect(output).toContain("no_such_table");
  });

  it("runs a migration whose function body contains semicolons ($$ quoting) as one script", async () => {
    const url = scratchUrl("dollar");
    const ws = await workspace();
    workspaces.push(ws.dir);
    await fs.mkdir(path.join(ws.migrations, "29990101000000_semicolons"));
    await fs.writeFile(
      path.join(ws.migrations, "29990101000000_semicolons/migration.sql"),
      [
        "CREATE FUNCTION bridge_semicolons(n integer) RETURNS text",
        "LANGUAGE plpgsql AS $$",
        "DECLARE",
        "  acc text := 'a;b';",
        "BEGIN",
        "  acc := acc || ';' || n::text;",
        "  RETURN acc;",
        "END;",
        "$$;",
        "",
        "SELECT bridge_semicolons(1);",
        "",
      ].join("\n"),
    );
    const { code, output } = await runPrisma(["migrate", "deploy", "--config", ws.config], url);
    expect(output).toContain("29990101000000_semicolons");
    expect(code).toBe(0);
    const [row] = await query<{ v: string }>(url, "SELECT bridge_semicolons(7) AS v");
    expect(row?.v).toBe("a;b;7");
  });
});

describe("migrations vs schema", () => {
  let url: string;
  beforeAll(async () => {
    url = scratchUrl("diff");
    await query(adminUrl, `CREATE DATABASE "${new URL(url).pathname.slice(1)}"`);
  });

  it("prisma/migrations produce exactly prisma/schema.prisma", async () => {
    await expect(assertMigrationsMatchSchema(url)).resolves.toBeUndefined();
  });

  it("detects a schema edit that has no migration", async () => {
    const ws = await workspace();
    workspaces.push(ws.dir);
    const schema = await fs.readFile(ws.schema, "utf8");
    const edited = schema.replace(/(\n\s*lastLoginAt\s+DateTime\?)/, "\n  nickname    String?$1");
    expect(edited).not.toBe(schema);
    await fs.writeFile(ws.schema, edited);

    const check = assertMigrationsMatchSchema(url, { schemaPath: ws.schema, migrationsDir: ws.migrations });
    await expect(check).rejects.toThrow(/differs from what/);
    await expect(check).rejects.toThrow(/ALTER TABLE "users" ADD COLUMN\s+"nickname" TEXT/);
  });

  it("reads \"char\" catalog columns as the engine expects (a CHECK constraint is a pg_constraint row on every version)", async () => {
    // The engine reads pg_constraint.contype as a char; reported as text it
    // panicked as soon as any row came back: CHECK constraints everywhere, and
    // on PostgreSQL 18 every NOT NULL column.
    const ws = await workspace();
    workspaces.push(ws.dir);
    await fs.mkdir(path.join(ws.migrations, "29990101000000_check"));
    await fs.writeFile(
      path.join(ws.migrations, "29990101000000_check/migration.sql"),
      `ALTER TABLE "users" ADD CONSTRAINT "users_version_positive" CHECK ("version" >= 0);\n`,
    );
    await expect(assertMigrationsMatchSchema(url, { schemaPath: ws.schema, migrationsDir: ws.migrations })).resolves.toBeUndefined();
  });

  it("treats an engine that dies mid-request as a failure, never as \"no difference\"", async () => {
    // The CLI can exit 0 with no output when its engine exits while a request
    // is pending; the check must not read that as a match.
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "bridge-prisma-"));
    workspaces.push(dir);
    const dying = path.join(dir, "dying-engine.mjs");
    await fs.writeFile(
      dying,
      [
        "#!/usr/bin/env node",
        'import readline from "node:readline";',
        'readline.createInterface({ input: process.stdin }).on("line", () => process.exit(1));',
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    const previous = process.env.PRISMA_SCHEMA_ENGINE_BINARY;
    process.env.PRISMA_SCHEMA_ENGINE_BINARY = dying;
    try {
      for (let i = 0; i < 3; i++) {
        await expect(assertMigrationsMatchSchema(url)).rejects.toThrow(/prisma migrate diff failed/);
      }
    } finally {
      process.env.PRISMA_SCHEMA_ENGINE_BINARY = previous;
    }
  });

  it("migrate dev turns that edit into a new migration (shadow database, evaluateDataLoss, createMigration)", async () => {
    const devUrl = scratchUrl("dev");
    const ws = await workspace();
    workspaces.push(ws.dir);
    const schema = await fs.readFile(ws.schema, "utf8");
    await fs.writeFile(ws.schema, schema.replace(/(\n\s*lastLoginAt\s+DateTime\?)/, "\n  nickname    String?$1"));

    const dev = await runPrisma(["migrate", "dev", "--name", "nickname", "--config", ws.config], devUrl);
    expect(dev.output).toMatch(/_nickname/);
    expect(dev.code).toBe(0);
    const dirs = (await fs.readdir(ws.migrations)).filter((d) => d.endsWith("_nickname"));
    expect(dirs).toHaveLength(1);
    const sql = await fs.readFile(path.join(ws.migrations, dirs[0]!, "migration.sql"), "utf8");
    expect(sql).toMatch(/ALTER TABLE "users" ADD COLUMN\s+"nickname" TEXT/);
    const cols = await query(devUrl, "SELECT 1 FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'nickname'");
    expect(cols).toHaveLength(1);

    const status = await runPrisma(["migrate", "status", "--config", ws.config], devUrl);
    expect(status.output).toContain("Database schema is up to date");
  });
});
