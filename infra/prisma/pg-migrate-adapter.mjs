// A migration-capable PostgreSQL driver adapter factory for the WASM schema
// engine. It reuses the stock @prisma/adapter-pg (same column mapping, same
// error conversion) and fixes only what migrations need and the stock adapter
// gets wrong (see README.md, "Why not the stock adapter"):
//
// 1. Catalog columns of type "char" (oid 18) are reported as Character, like
//    the native engine's quaint reports them, and name (oid 19) as text. The
//    engine's introspection queries select such columns (pg_constraint.contype,
//    pg_class.relkind, ...); the stock adapter throws UnsupportedNativeDataType
//    for oid 18 (Prisma issue #27403). Text is not enough for "char": some
//    reads accept only a char (contype), and on PostgreSQL 18, whose NOT NULL
//    constraints are pg_constraint rows, reading it as text panics the engine.
// 2. executeScript sends the whole script as one simple query on one
//    connection. The stock one splits on ";", which cuts `$$ ... $$` function
//    bodies (and string literals) in half.
// 3. connectToShadowDb creates a temporary database, connects to it by its own
//    URL (pg's connectionString wins over a `database` option, so the stock
//    adapter's shadow pool silently talks to the main database), and drops it
//    after closing the pool (the stock adapter drops it while still connected).
import { createRequire } from "node:module";
import { randomUUID } from "node:crypto";
import pg from "pg";

const require = createRequire(import.meta.url);
const { PrismaPg } = require("@prisma/adapter-pg");
// Same copy as @prisma/adapter-pg uses (see schema-engine.mjs).
const { ColumnTypeEnum } = createRequire(require.resolve("@prisma/adapter-pg"))("@prisma/driver-adapter-utils");

// Type oids that the engine's catalog queries return.
const CHAR_OID = 18; // "char", e.g. pg_class.relkind, pg_constraint.contype
const NAME_OID = 19; // name, e.g. pg_namespace.nspname
const TEXT_OID = 25;

// Indexes of the "char" columns of a result, kept on its rows array (which the
// stock adapter returns as is) until queryRaw's result is fixed up below.
const CHAR_COLUMNS = Symbol("charColumns");

/**
 * Rewrite catalog column types to text, so the stock adapter's type mapping
 * accepts them (pg already returned their values as strings), and remember
 * which columns were "char" so queryRaw can report those as Character.
 */
function charAndNameAsText(result) {
  // A multi-statement simple query resolves to an array of results.
  for (const r of Array.isArray(result) ? result : [result]) {
    const charColumns = [];
    (r?.fields ?? []).forEach((field, i) => {
      if (field.dataTypeID === CHAR_OID) charColumns.push(i);
      if (field.dataTypeID === CHAR_OID || field.dataTypeID === NAME_OID) field.dataTypeID = TEXT_OID;
    });
    if (charColumns.length && Array.isArray(r.rows)) {
      Object.defineProperty(r.rows, CHAR_COLUMNS, { value: charColumns, enumerable: false });
    }
  }
  return result;
}

/** Make `queryable.queryRaw` report the columns that were "char" as Character (quaint's Value::Char). */
function reportCharColumns(queryable) {
  const queryRaw = queryable.queryRaw.bind(queryable);
  queryable.queryRaw = async (query) => {
    const result = await queryRaw(query);
    for (const i of result.rows?.[CHAR_COLUMNS] ?? []) result.columnTypes[i] = ColumnTypeEnum.Character;
    return result;
  };
  return queryable;
}

// pg.Pool accepts a `Client` class (public pg-pool option), so the fix sits
// below the stock adapter without touching its internals. Pool.query calls
// client.query with a callback; the adapter's transactions call it with a
// promise; handle both.
class CatalogTextClient extends pg.Client {
  query(config, values, callback) {
    if (typeof values === "function") {
      return super.query(config, (err, res) => values(err, err ? res : charAndNameAsText(res)));
    }
    if (typeof callback === "function") {
      return super.query(config, values, (err, res) => callback(err, err ? res : charAndNameAsText(res)));
    }
    const ret = super.query(config, values);
    return ret && typeof ret.then === "function" ? ret.then(charAndNameAsText) : ret;
  }
}

/** The URL of `url` with its database name replaced. */
export function withDatabase(url, database) {
  const u = new URL(url);
  u.pathname = "/" + encodeURIComponent(database);
  return u.toString();
}

/** Database name of a postgres URL ("postgres" when none is given, like libpq defaults to the user name). */
export function databaseOf(url) {
  const u = new URL(url);
  const name = decodeURIComponent(u.pathname.replace(/^\//, ""));
  return name || decodeURIComponent(u.username) || "postgres";
}

export const quoteIdent = (name) => `"${String(name).replace(/"/g, '""')}"`;

// Shadow databases created by this process and not dropped yet: name -> URL of
// the database they were created from (names are unique: they carry a UUID).
const liveShadowDbs = new Map();

/**
 * Best-effort DROP of every shadow database this process created and has not
 * dropped yet, over fresh connections. For when the engine died mid-request
 * (a WASM trap never runs the shadow adapter's dispose).
 */
export async function dropLiveShadowDatabases() {
  for (const [name, adminUrl] of liveShadowDbs) {
    const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
    try {
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
      liveShadowDbs.delete(name);
    } catch {
      // best effort: the caller is already reporting a worse error
    } finally {
      await client.end().catch(() => {});
    }
  }
}

/**
 * SqlMigrationAwareDriverAdapterFactory for one PostgreSQL URL.
 * Wrap it with bindMigrationAwareSqlAdapterFactory before handing it to the engine.
 */
export class PgMigrateAdapterFactory {
  provider = "postgres";
  adapterName = "@prisma/adapter-pg";

  /** @param {string} url */
  constructor(url) {
    this.url = url;
    const schema = new URL(url).searchParams.get("schema") ?? undefined;
    this.inner = new PrismaPg({ connectionString: url, Client: CatalogTextClient, max: 4 }, { schema });
  }

  async connect() {
    const adapter = reportCharColumns(await this.inner.connect());
    const startTransaction = adapter.startTransaction.bind(adapter);
    adapter.startTransaction = async (...args) => reportCharColumns(await startTransaction(...args));
    const pool = adapter.underlyingDriver();
    // One pool.query = one checked-out connection = one simple-protocol query,
    // which PostgreSQL runs as an implicit transaction, like the native engine.
    adapter.executeScript = async (script) => {
      try {
        await pool.query(script);
      } catch (error) {
        adapter.onError(error); // rethrows as DriverAdapterError (stock conversion)
      }
    };
    return adapter;
  }

  async connectToShadowDb() {
    const admin = await this.connect();
    const name = `prisma_migrate_shadow_db_${randomUUID()}`;
    await admin.executeScript(`CREATE DATABASE ${quoteIdent(name)}`);
    liveShadowDbs.set(name, this.url);
    try {
      const shadow = await new PgMigrateAdapterFactory(withDatabase(this.url, name)).connect();
      const disposeShadow = shadow.dispose.bind(shadow);
      shadow.dispose = async () => {
        try {
          await disposeShadow(); // close our pool first: a database in use cannot be dropped
        } finally {
          try {
            await admin.executeScript(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
            liveShadowDbs.delete(name);
          } finally {
            await admin.dispose();
          }
        }
      };
      return shadow;
    } catch (error) {
      await admin
        .executeScript(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`)
        .then(() => liveShadowDbs.delete(name), () => {});
      await admin.dispose();
      throw error;
    }
  }
}
