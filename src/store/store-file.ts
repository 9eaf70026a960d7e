/**
 * The log store's SQLite file: its schema (version 5, kept in `PRAGMA user_version`), the
 * migration of a version 4 store, and opening a file or memory database with its pragmas, each
 * failure one `StoreError` sentence naming the file and what to do.
 *
 * Layout: one row per log in `logs`; the common fields as columns, the syslog header's hostname,
 * app name, msgid and time among them (for filters); `raw` as text, or as a BLOB of its exact
 * bytes when they are not UTF-8; the FortiOS fields in the `fields` text column: NULL for none,
 * JSON for fields given as a record, and '' for fields that are those of `raw` (`"from-raw"`,
 * what the syslog intake appends): those, and the rest of the syslog header, are parsed from
 * `raw` again on read (`log-record.ts`), which keeps them out of the row (JSON would double its
 * size and cost more than the insert). Each row is in exactly one secondary index: visible logs
 * in `(device, seq)`, which answers `sequenceReport` and per-device counts, held logs in
 * `(devid)`, which finds a device's held logs. So a visible log costs one index entry as before
 * held logs existed (each extra index cost 5-10% of the append rate when measured). The OFTP
 * device registry (`devices`, `removed_devices`) and the HA sync state (`store_info`,
 * `sync_positions`) are in the same file.
 */
import { mkdirSync } from "node:fs"
import { dirname, resolve } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { StoreError } from "./store-error.ts"

const SCHEMA_VERSION = 5
/** 8 KiB pages hold six ~1.3 KB log rows; measured faster than 4 KiB and 16 KiB for appends. */
export const PAGE_SIZE = 8192
/** How long a statement waits for another connection's lock before failing. */
const BUSY_TIMEOUT_MS = 5_000

/** The store's uid and its HA sync positions (docs/protocols/ha.md, "Catch-up"). */
const SYNC_SCHEMA = `
CREATE TABLE store_info (uid TEXT NOT NULL);
INSERT INTO store_info (uid) VALUES (lower(hex(randomblob(8))));
CREATE TABLE sync_positions (origin TEXT PRIMARY KEY, up_to INTEGER NOT NULL);
`

const SCHEMA = `
CREATE TABLE logs (
  id INTEGER PRIMARY KEY,
  received_at INTEGER NOT NULL,
  transport TEXT NOT NULL,
  peer TEXT NOT NULL,
  format TEXT NOT NULL,
  facility INTEGER NOT NULL,
  severity INTEGER NOT NULL,
  device TEXT NOT NULL,
  devid TEXT,
  logid TEXT,
  type TEXT,
  subtype TEXT,
  level TEXT,
  eventtime TEXT,
  seq INTEGER,
  raw TEXT NOT NULL,
  fields TEXT,
  held INTEGER NOT NULL DEFAULT 0,
  oftp INTEGER NOT NULL DEFAULT 0,
  origin TEXT,
  origin_id INTEGER,
  hostname TEXT,
  app_name TEXT,
  msg_id TEXT,
  log_time INTEGER
);
CREATE INDEX logs_device_seq ON logs (device, seq) WHERE held = 0;
CREATE INDEX logs_held_devid ON logs (devid) WHERE held = 1;
CREATE TABLE devices (
  serial TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  platform TEXT NOT NULL,
  version TEXT NOT NULL,
  ip TEXT NOT NULL,
  vdoms TEXT NOT NULL,
  adom TEXT,
  state TEXT NOT NULL CHECK (state IN ('unauthorized', 'authorized')),
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  last_seq INTEGER NOT NULL DEFAULT 0
);
-- Removed devices: the highest OFTP seq still stored for each, where a new row for it starts.
CREATE TABLE removed_devices (serial TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);
${SYNC_SCHEMA}`


/** Schema version 4 had none of the syslog header columns: added empty (its logs are found by them no more than before). */
const MIGRATE_4_TO_5 = `
ALTER TABLE logs ADD COLUMN hostname TEXT;
ALTER TABLE logs ADD COLUMN app_name TEXT;
ALTER TABLE logs ADD COLUMN msg_id TEXT;
ALTER TABLE logs ADD COLUMN log_time INTEGER;
`

/**
 * Opens the store's database, creating its folder, file and schema when missing, or checks that
 * an existing file is a store this fazlab reads (migrating a version 4 store). A file store keeps
 * what earlier runs stored, in WAL mode with `synchronous = NORMAL` (see `log-store.ts`).
 */
export function openDatabase(options: { readonly path: string } | { readonly memory: true }): { readonly db: DatabaseSync; readonly path: string | null } {
  if ("memory" in options) {
    const db = new DatabaseSync(":memory:")
    db.exec(`PRAGMA page_size = ${PAGE_SIZE}`)
    initialise(db, "the memory store")
    return { db, path: null }
  }
  const path = resolve(options.path)
  try {
    mkdirSync(dirname(path), { recursive: true })
  } catch (cause) {
    throw new StoreError(
      "store-open-failed",
      `Cannot create the data folder ${dirname(path)} (${reason(cause)}); check its permissions or use another --data-dir.`,
      { cause }
    )
  }
  let db: DatabaseSync
  try {
    db = new DatabaseSync(path, { timeout: BUSY_TIMEOUT_MS })
  } catch (cause) {
    throw new StoreError(
      "store-open-failed",
      `Cannot open the log store ${path} (${reason(cause)}); check the path and its permissions or use another --data-dir.`,
      { cause }
    )
  }
  try {
    db.exec(`PRAGMA page_size = ${PAGE_SIZE}`)
    db.exec("PRAGMA journal_mode = WAL")
    db.exec("PRAGMA synchronous = NORMAL")
    // After a WAL restart, keep at most 64 MiB of its file on disk.
    db.exec("PRAGMA journal_size_limit = 67108864")
    initialise(db, path)
    return { db, path }
  } catch (cause) {
    db.close()
    throw openError(cause, path)
  }
}

/** Creates the schema in a new database, or checks that an existing one is a store we know. */
function initialise(db: DatabaseSync, path: string): void {
  db.exec("BEGIN IMMEDIATE")
  try {
    const version = Number(db.prepare("PRAGMA user_version").get()?.["user_version"] ?? 0)
    if (version === 0) {
      const tables = Number(db.prepare("SELECT count(*) AS n FROM sqlite_schema").get()?.["n"] ?? 0)
      if (tables > 0) {
        throw new StoreError(
          "store-not-a-store",
          `${path} is a SQLite database but not a fazlab log store; move it away or use another --data-dir.`
        )
      }
      db.exec(SCHEMA)
      db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`)
    } else if (version === 4) {
      db.exec(MIGRATE_4_TO_5)
      db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`)
    } else if (version !== SCHEMA_VERSION) {
      throw new StoreError(
        "store-version",
        `${path} was written by another version of fazlab's store (version ${version}; this fazlab reads version ${SCHEMA_VERSION}); delete ${dirname(path)} or use another --data-dir.`
      )
    }
    db.exec("COMMIT")
  } catch (cause) {
    if (db.isTransaction) db.exec("ROLLBACK")
    throw cause
  }
}

function openError(cause: unknown, path: string): StoreError {
  if (cause instanceof StoreError) return cause
  if (sqliteCode(cause) === SQLITE_NOTADB) {
    return new StoreError(
      "store-not-a-store",
      `${path} is not a fazlab log store (not a SQLite database); move it away or use another --data-dir.`,
      { cause }
    )
  }
  return new StoreError(
    "store-open-failed",
    `Cannot open the log store ${path} (${reason(cause)}); check the file and its permissions or use another --data-dir.`,
    { cause }
  )
}

const SQLITE_NOTADB = 26

/** The primary SQLite result code of a `node:sqlite` error, if it is one. */
function sqliteCode(error: unknown): number | undefined {
  if (!(error instanceof Error) || !("errcode" in error)) return undefined
  const code = error.errcode
  return typeof code === "number" ? code & 0xff : undefined
}

/** The message of a failure, for the sentence of the StoreError that wraps it. */
export function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
