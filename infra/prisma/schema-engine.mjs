#!/usr/bin/env node
// Stand-in for Prisma's native `schema-engine` binary, which the CLI would
// download from binaries.prisma.sh (unreachable here; no npm package ships it).
// prisma.config.ts points PRISMA_SCHEMA_ENGINE_BINARY at this file. It speaks
// the binary's interface (argv, newline-delimited JSON-RPC 2.0 on stdin/stdout,
// JSON log lines on stderr) and forwards each call to the WASM build of the
// same engine (@prisma/schema-engine-wasm, same engine hash as the CLI), which
// reaches PostgreSQL through the driver adapter in ./pg-migrate-adapter.mjs.
// See README.md in this folder for the quirks handled here and the limits.
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { createRequire } from "node:module";
import pg from "pg";
import {
  PgMigrateAdapterFactory,
  databaseOf,
  dropLiveShadowDatabases,
  quoteIdent,
  withDatabase,
} from "./pg-migrate-adapter.mjs";

const require = createRequire(import.meta.url);
// Not a direct dependency: resolve it the way @prisma/adapter-pg does, so a
// nested install cannot hand us a second copy with a different error registry.
const { bindMigrationAwareSqlAdapterFactory } = createRequire(require.resolve("@prisma/adapter-pg"))(
  "@prisma/driver-adapter-utils",
);

// ---------------------------------------------------------------------------
// argv, as the CLI builds it:
//   [--datamodels PATH...]... [--datasource JSON] [--enabled-preview-features LIST]
//   [--extension-types JSON] [cli <command>] | --version
// ---------------------------------------------------------------------------
function parseArgs(argv) {
  const args = { datamodels: [], datasource: undefined, cli: undefined, version: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--version" || a === "-V") args.version = true;
    else if (a === "--datamodels") {
      // clap accepts both `--datamodels a b` and `--datamodels a --datamodels b`.
      while (i + 1 < argv.length && !argv[i + 1].startsWith("--") && argv[i + 1] !== "cli") args.datamodels.push(argv[++i]);
    } else if (a === "--datasource") args.datasource = JSON.parse(argv[++i]);
    else if (a === "--enabled-preview-features" || a === "--extension-types") i++; // not used by the WASM engine
    else if (a === "cli") args.cli = argv[++i];
    else throw new Error(`schema-engine wrapper: unknown argument ${a}`);
  }
  return args;
}

// stderr lines in the native engine's tracing-JSON shape; the CLI parses them
// (it keeps `fields.message`, and for `cli` commands looks for an ERROR line
// from target schema_engine::logger carrying `fields.error_code`).
function log(level, message, extra = {}, target = "schema_engine::logger") {
  process.stderr.write(
    JSON.stringify({ timestamp: new Date().toISOString(), level, fields: { message, ...extra }, target }) + "\n",
  );
}

// The package's "exports" hide package.json; locate its folder via its entry.
const wasmDir = () => path.dirname(require.resolve("@prisma/schema-engine-wasm"));

function engineHash() {
  // "7.10.0-4.<hash>": the hash is the prisma-engines commit, which the CLI
  // compares against its own (and shows in `prisma -v`).
  const { version } = JSON.parse(fs.readFileSync(path.join(wasmDir(), "package.json"), "utf8"));
  return version.split(".").pop();
}

let panicMessage;
async function loadWasm() {
  // The package's entry does `import * as wasm from "./x.wasm"`, which Node 20
  // only allows behind --experimental-wasm-modules; instantiate it by hand.
  globalThis.PRISMA_WASM_PANIC_REGISTRY ??= { set_message: (m) => (panicMessage = m) };
  const dir = wasmDir();
  const bg = await import(new URL(`file://${path.join(dir, "schema_engine_bg.js")}`).href);
  const { instance } = await WebAssembly.instantiate(fs.readFileSync(path.join(dir, "schema_engine_bg.wasm")), {
    "./schema_engine_bg.js": bg,
  });
  bg.__wbg_set_wasm(instance.exports);
  instance.exports.__wbindgen_start();
  return bg;
}

// ---------------------------------------------------------------------------
// One-shot commands (`cli can-connect-to-database`, `cli create-database`,
// `cli drop-database`): plain pg, no WASM needed.
// ---------------------------------------------------------------------------
// PostgreSQL SQLSTATE -> Prisma error code, for the cases the CLI branches on
// (P1003 "database does not exist" makes `migrate dev` offer to create it).
function prismaCode(err) {
  if (err.code === "3D000") return "P1003";
  if (err.code === "28P01" || err.code === "28000") return "P1000";
  if (err.code === "42501") return "P1010";
  if (["ECONNREFUSED", "ENOTFOUND", "EHOSTUNREACH", "ETIMEDOUT"].includes(err.code)) return "P1001";
  return "P1000";
}

async function withClient(url, fn) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function runCli(command, datasource) {
  const url = datasource?.url;
  if (!url) throw Object.assign(new Error("No datasource url given (--datasource)"), { code: "P1012" });
  const db = databaseOf(url);
  const maintenance = withDatabase(url, db === "postgres" ? "template1" : "postgres");
  switch (command) {
    case "can-connect-to-database":
      return withClient(url, (c) => c.query("SELECT 1"));
    case "create-database":
      await withClient(maintenance, (c) => c.query(`CREATE DATABASE ${quoteIdent(db)}`));
      process.stdout.write(`Database '${db}' was successfully created.\n`);
      return;
    case "drop-database":
      await withClient(maintenance, (c) => c.query(`DROP DATABASE IF EXISTS ${quoteIdent(db)} WITH (FORCE)`));
      process.stdout.write(`The database was successfully dropped.\n`);
      return;
    default:
      throw new Error(`schema-engine wrapper: unsupported cli command ${command}`);
  }
}

// ---------------------------------------------------------------------------
// JSON-RPC server
// ---------------------------------------------------------------------------
const PASSTHROUGH = new Set([
  "applyMigrations",
  "createMigration",
  "dbExecute",
  "devDiagnostic",
  "diagnoseMigrationHistory",
  "ensureConnectionValidity",
  "evaluateDataLoss",
  "introspect",
  "introspectSql",
  "markMigrationApplied",
  "markMigrationRolledBack",
  "reset",
  "schemaPush",
]);

const SHADOW_FACTORY_MISSING = /shadow DB must be provided through an external factory/;

// Why the server must not exit on its own: when the engine process exits while
// a request is pending, the CLI rejects that request and then, in `finally`,
// awaits its stop(), which waits for an 'exit' event that has already fired
// (its fallback timer is unref'd). Node then runs out of work and the CLI exits
// with status 0 and no output: `migrate diff --exit-code` reads as "no
// difference". So every failure, including a WASM trap (a Rust panic, which
// escapes as an uncaught exception and leaves the engine's promise pending
// forever), is answered as a JSON-RPC error, and the process exits only after
// the CLI has ended stdin.
async function serve({ datamodels, datasource }) {
  const url = datasource?.url;
  const factory = url ? bindMigrationAwareSqlAdapterFactory(new PgMigrateAdapterFactory(url)) : undefined;
  const wasmLog = (line) => process.stderr.write(line.trim() + "\n"); // already tracing-JSON lines
  let engine; // created on first call, so `--version`-style probes never touch the DB
  const getEngine = async () => {
    if (engine) return engine;
    const bg = await loadWasm();
    const files = datamodels.map((p) => [p, fs.readFileSync(p, "utf8")]);
    return (engine = await bg.SchemaEngine.new({ datamodels: files.length ? files : undefined }, wasmLog, factory ?? {}));
  };

  const send = (msg) => process.stdout.write(JSON.stringify(msg) + "\n");
  let nextOutgoingId = 1;
  const pendingOutgoing = new Map();

  async function call(method, params) {
    const e = await getEngine();
    if (PASSTHROUGH.has(method)) {
      // Quirk: evaluateDataLoss and createMigration get no shadow-database
      // factory in the WASM engine; they only read the migrations' schema from
      // a per-engine cache that devDiagnostic fills (when it replays the
      // migrations on a shadow database, i.e. when the database is up to date).
      // `migrate dev` runs devDiagnostic *before* applying pending migrations,
      // so the cache can still be empty. Fill it and retry once.
      let result;
      try {
        result = await e[method](params);
      } catch (err) {
        const cacheBacked = method === "evaluateDataLoss" || method === "createMigration";
        if (!cacheBacked || !SHADOW_FACTORY_MISSING.test(err?.message ?? "")) throw err;
        await e.devDiagnostic({ migrationsList: params.migrationsList, filters: params.filters });
        result = await e[method](params);
      }
      return result ?? {};
    }
    switch (method) {
      case "getDatabaseVersion":
        return e.version(params ?? null);
      case "diff": {
        // Quirk: the native engine prints the diff through a `print` request to
        // the CLI and returns stdout: null; the WASM engine returns the text.
        const { exitCode, stdout } = await e.diff(params);
        if (stdout) {
          const id = `print-${nextOutgoingId++}`;
          await new Promise((resolve) => {
            pendingOutgoing.set(id, resolve);
            send({ jsonrpc: "2.0", id, method: "print", params: { content: stdout.replace(/\n$/, "") } });
          });
        }
        return { exitCode, stdout: null };
      }
      case "createDatabase": {
        const target = params?.datasource?.tag === "ConnectionString" ? { url: params.datasource.url } : datasource;
        await runCli("create-database", target);
        return { databaseName: databaseOf(target.url) };
      }
      case "debugPanic":
        return e.debugPanic();
      default:
        throw Object.assign(new Error(`Method not found: ${method}`), { rpcCode: -32601 });
    }
  }

  function toRpcError(err) {
    if (err?.rpcCode) return { code: err.rpcCode, message: err.message };
    // Engine errors are JS Errors: user-facing ones carry a Prisma `code`
    // (e.g. P3018 for a failed migration) and `meta`; a Rust panic surfaces
    // as a WebAssembly trap whose message went to PRISMA_WASM_PANIC_REGISTRY.
    const isPanic = err instanceof WebAssembly.RuntimeError;
    const message = isPanic ? `${panicMessage ?? String(err)}` : (err?.message ?? String(err));
    panicMessage = undefined;
    const errorCode = typeof err?.code === "string" ? err.code : null;
    log("ERROR", message, { ...(errorCode ? { error_code: errorCode } : {}), ...(isPanic ? { is_panic: true } : {}) });
    return {
      code: 4466,
      // The CLI shows this one for panics (and data.message otherwise).
      message: isPanic ? message : "An error happened. Check the data field for details.",
      data: { is_panic: isPanic, message, meta: err?.meta ?? null, error_code: errorCode },
    };
  }

  // Requests received and not answered yet, and the error that poisoned the
  // engine (a trap, or anything else thrown outside a request's promise chain).
  const unanswered = new Set();
  let fatal; // the JSON-RPC error every request gets from then on
  let fatalReported; // settles once the shadow database is gone and `fatal` was sent
  let onFatalReported;
  const afterFatal = new Promise((resolve) => (onFatalReported = resolve));
  const answer = (id, reply) => {
    if (!unanswered.delete(id)) return; // already answered with the fatal error
    send({ jsonrpc: "2.0", id, ...reply });
  };
  const answerAllFatal = () => {
    for (const id of [...unanswered]) answer(id, { error: fatal });
  };
  const onFatal = (err) => {
    if (fatal) return log("ERROR", `after a fatal engine error: ${err?.stack ?? String(err)}`);
    fatal = toRpcError(err);
    // The trapped call's shadow database is never disposed. Drop it before
    // answering: once answered, the CLI ends stdin and kills us right away.
    fatalReported = dropLiveShadowDatabases().then(answerAllFatal).finally(onFatalReported);
  };
  process.on("uncaughtException", onFatal);
  process.on("unhandledRejection", onFatal);

  // Requests are answered in order, one at a time: the engine is not reentrant
  // and the CLI never pipelines anyway.
  let queue = Promise.resolve();
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  rl.on("line", (line) => {
    if (!line.trim()) return;
    let msg;
    try {
      msg = JSON.parse(line);
    } catch {
      return send({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error" } });
    }
    if (msg.method === undefined && pendingOutgoing.has(msg.id)) {
      // The CLI's answer to our `print` request.
      pendingOutgoing.get(msg.id)();
      pendingOutgoing.delete(msg.id);
      return;
    }
    unanswered.add(msg.id);
    if (fatal) return void fatalReported.then(answerAllFatal);
    queue = queue.then(async () => {
      if (fatal) return;
      try {
        const result = await call(msg.method, msg.params);
        answer(msg.id, { result: result ?? null });
      } catch (err) {
        answer(msg.id, { error: toRpcError(err) });
      }
    });
  });
  // The CLI ends stdin to stop us. Free the engine so its pools get disposed.
  await new Promise((resolve) => rl.on("close", resolve));
  // A trapped engine never settles its pending call: don't wait for it then.
  await Promise.race([queue, afterFatal]);
  if (fatal) {
    process.exitCode = 1;
    return;
  }
  engine?.free();
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.version) {
    process.stdout.write(`schema-engine-cli ${engineHash()}\n`);
    return;
  }
  if (args.cli) {
    // The CLI drops the first stderr line of a `cli` command before looking
    // for the error (the native engine always starts with this one).
    log("INFO", "Starting schema engine CLI", { git_hash: engineHash() }, "schema_engine_cli");
    try {
      await runCli(args.cli, args.datasource);
    } catch (err) {
      const code = typeof err.code === "string" && err.code.startsWith("P") ? err.code : prismaCode(err);
      log("ERROR", err.message, { error_code: code });
      process.exitCode = 1;
    }
    return;
  }
  await serve(args);
}

// The pg pools of a freed engine may still hold idle sockets; don't wait for them.
main().then(
  () => process.exit(process.exitCode ?? 0),
  (err) => {
    log("ERROR", err?.stack ?? String(err));
    process.exit(1);
  },
);
