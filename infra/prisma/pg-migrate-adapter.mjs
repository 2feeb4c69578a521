// A migration-capable PostgreSQL driver adapter factory for the WASM schema
// engine. It reuses the stock @prisma/adapter-pg (same column mapping, same
// error conversion) and fixes only what migrations need and the stock adapter
// gets wrong (see README.md, "Why not the stock adapter"):
//
// 1. Catalog columns of type "char" (oid 18) and name (oid 19) are reported as
//    text. The engine's introspection queries select such columns (e.g.
//    pg_class.relkind); the stock adapter throws UnsupportedNativeDataType for
//    oid 18 (Prisma issue #27403).
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

// Type oids that the engine's catalog queries return and that are plain text.
const CHAR_OID = 18; // "char", e.g. pg_class.relkind, pg_constraint.contype
const NAME_OID = 19; // name, e.g. pg_namespace.nspname
const TEXT_OID = 25;

/** Rewrite catalog column types to text; pg already returned their values as strings. */
function charAndNameAsText(result) {
  // A multi-statement simple query resolves to an array of results.
  for (const r of Array.isArray(result) ? result : [result]) {
    for (const field of r?.fields ?? []) {
      if (field.dataTypeID === CHAR_OID || field.dataTypeID === NAME_OID) field.dataTypeID = TEXT_OID;
    }
  }
  return result;
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
    const adapter = await this.inner.connect();
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
    try {
      const shadow = await new PgMigrateAdapterFactory(withDatabase(this.url, name)).connect();
      const disposeShadow = shadow.dispose.bind(shadow);
      shadow.dispose = async () => {
        try {
          await disposeShadow(); // close our pool first: a database in use cannot be dropped
        } finally {
          try {
            await admin.executeScript(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
          } finally {
            await admin.dispose();
          }
        }
      };
      return shadow;
    } catch (error) {
      await admin.executeScript(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`).catch(() => {});
      await admin.dispose();
      throw error;
    }
  }
}
