/**
 * The analyzer's durable log store: every log an emulated FortiAnalyzer accepts (syslog, and
 * OFTP batches through `appendDeviceBatch`) in one SQLite table (Node's built-in `node:sqlite`),
 * with the registry of OFTP devices (`store.devices`, see `device-registry.ts`) in the same file;
 * queryable by the CLI (`fazlab logs`, from another process), the UI and the expectation checker.
 *
 * Durability: a file store runs in WAL mode with `synchronous = NORMAL`. When `append()` or
 * `appendDeviceBatch()` returns, the batch is in the `-wal` file (written, not fsynced): it
 * survives the process being killed (SIGKILL, crash), which is what "an acknowledged log is never
 * lost" means for the lab. A power cut or kernel crash may lose the last batches but never
 * corrupts the file; `synchronous = FULL` would cover that at a large cost in append rate. A
 * memory store (`{ memory: true }`) lives and dies with the process.
 *
 * Held logs: logs of a device that is not authorized yet are stored with `held = 1`, apart from
 * the others: reads leave them out unless asked (`LogQuery.held`). Authorizing the device
 * releases them (see `DeviceRegistry.authorize`), removing it drops them.
 *
 * Layout (schema version 5, kept in `PRAGMA user_version`; a version 4 store gets the columns
 * version 5 added when opened): one row per log; the common fields as columns, the syslog
 * header's hostname, app name, msgid and time among them (for filters); `raw` as text, or as a
 * BLOB of its exact bytes when they are not UTF-8; the FortiOS fields in the `fields` text
 * column: NULL for none, JSON for fields given as a record, and '' for fields that are those of
 * `raw` (`"from-raw"`, what the syslog intake appends): those, and the rest of the syslog header
 * (`SyslogHeaderView`), are parsed from `raw` again on read, which keeps them out of the row
 * (JSON would double its size and cost more than the insert). Each row is in exactly one secondary
 * index: visible logs in `(device, seq)`, which answers `sequenceReport` and per-device counts,
 * held logs in `(devid)`, which finds a device's held logs. So a visible log costs one index
 * entry as before held logs existed (each extra index cost 5-10% of the append rate when
 * measured). `query()` walks ids (from the newest, or from `afterId` when following new logs)
 * and stops at `limit`, which is cheap unless the filters match only rare, old logs; `count()`
 * with filters other than `device` scans the table.
 *
 * Results are always ordered by `id`, the order logs were stored in (released logs count as
 * stored when they are released).
 *
 * HA sync positions (schema version 3, docs/protocols/ha.md "Catch-up"): every store has a random
 * `uid`, kept in the file. A log that is not an OFTP record (syslog, HTTPS; OFTP rows are marked
 * `oftp = 1` and deduplicated by their device's `lastSeq`) is known across a group by its origin:
 * the `uid` of the store that first stored it and its `id` there. A log stored here first has
 * NULL `origin` and `origin_id` (its own `id`); one that came by HA sync keeps the sender's
 * origin (`appendSynced`). Per origin the store keeps `up_to`, the highest origin id it holds:
 * logs of one origin arrive in origin-id order, so a store holds every log of that origin up to
 * it, and a log at or below it is a duplicate.
 */
import { mkdirSync } from "node:fs"
import { dirname, resolve } from "node:path"
import { DatabaseSync, type SQLInputValue, type SQLOutputValue, type StatementSync } from "node:sqlite"
import { type KvDamageReport, parseKeyValuesBestEffort } from "../protocols/fortios/kv.ts"
import { formatInstant, formatOffset, type ParsedSyslog, parseSyslog, type SdElement } from "../protocols/syslog/message.ts"
import { WalCheckpointer } from "./checkpointer.ts"
import { DeviceRegistry, unknownDevice } from "./device-registry.ts"
import { StoreError } from "./store-error.ts"

export interface LogRecordInput {
  /** Milliseconds since the epoch. */
  readonly receivedAt: number
  readonly transport: "udp" | "tcp"
  /** "127.0.0.1:40312" */
  readonly peer: string
  readonly format: "rfc5424" | "rfc3164" | "fortios"
  readonly facility: number
  readonly severity: number
  /** FortiOS devname, else the syslog hostname, else the peer address. */
  readonly device: string
  /** FortiOS serial number. */
  readonly devid: string | null
  readonly logid: string | null
  readonly type: string | null
  readonly subtype: string | null
  readonly level: string | null
  /** FortiOS eventtime (nanoseconds since the epoch, as text). */
  readonly eventtime: string | null
  /** `fazlab_seq`: the emulated sender's sequence number, when present. */
  readonly seq: number | null
  /** The whole syslog message as received, as text; when it is not UTF-8, U+FFFD stands for what is not and `rawBytes` holds it. */
  readonly raw: string
  /** Base64 of the message's bytes when they are not UTF-8: the store keeps those bytes, not `raw`. Absent otherwise. */
  readonly rawBytes?: string
  /** The syslog header's HOSTNAME (FortiOS default format: `devname`); absent or null when it has none. */
  readonly hostname?: string | null
  /** RFC 5424 APP-NAME or RFC 3164 TAG. */
  readonly appName?: string | null
  /** RFC 5424 MSGID. */
  readonly msgId?: string | null
  /** The log's own time (its header TIMESTAMP, FortiOS `date time tz`), ms since the epoch; absent or null when it has none. */
  readonly logTime?: number | null
  /**
   * The FortiOS key=value fields, or `"from-raw"` when they are those of `raw` (`fieldsOfRaw`):
   * then the store keeps only `raw` and derives the fields again when they are read.
   */
  readonly fields: Readonly<Record<string, string>> | null | "from-raw"
  /**
   * Set when a best-effort read kept only the well-formed pairs of a cut or damaged FortiOS body.
   * Not a column: read back, it is derived from `raw` again, as the fields are.
   */
  readonly damage?: KvDamageReport
}

export interface StoredLog extends Omit<LogRecordInput, "fields" | "hostname" | "appName" | "msgId" | "logTime">, SyslogHeaderView {
  readonly id: number
  readonly fields: Readonly<Record<string, string>> | null
}

/**
 * Every field of a syslog message's header as it was sent, read again from `raw` (all null, and
 * `bom` false, for logs that did not come as syslog: OFTP, HTTPS).
 */
export interface SyslogHeaderView {
  /** The TIMESTAMP as written. */
  readonly timestamp: string | null
  /** The TIMESTAMP as an instant: UTC, to the microsecond (`2003-08-24T12:14:15.000003Z`). */
  readonly time: string | null
  /** The offset the TIMESTAMP was written in (`-07:00`, `+00:00` for `Z`); null when it had none (read as UTC). */
  readonly offset: string | null
  readonly hostname: string | null
  readonly appName: string | null
  readonly procId: string | null
  readonly msgId: string | null
  /** RFC 5424 SD-ELEMENTs, escapes undone; null for none. */
  readonly structuredData: ReadonlyArray<SdElement> | null
  /** The MSG (without BOM); null for logs that did not come as syslog. */
  readonly message: string | null
  /** Base64 of the MSG's bytes when they are not UTF-8 (then `message` is lossy), else null. */
  readonly messageBytes: string | null
  /** The MSG started with a BOM. */
  readonly bom: boolean
}

/** A log that came by HA sync, with its origin: the store that first stored it and its id there. */
export interface SyncedLogInput extends LogRecordInput {
  readonly origin: string
  readonly originId: number
}

/** A log for an HA catch-up (`logsToSync`): a stored log with its origin. */
export interface SyncLog extends StoredLog {
  readonly origin: string
  readonly originId: number
  readonly logTime: number | null
}

/** "This store holds every log of `origin` up to origin id `upTo`." */
export interface SyncPosition {
  readonly origin: string
  readonly upTo: number
}

/** Which logs a read sees: visible ones only (default), held ones only, or both. */
export type HeldFilter = "exclude" | "only" | "include"

/** One OFTP batch of a registered device, for `appendDeviceBatches`. */
export interface DeviceBatch {
  readonly serial: string
  readonly records: ReadonlyArray<LogRecordInput & { readonly seq: number }>
  /** Store its records held apart (the device is not authorized). */
  readonly held: boolean
}

/** What `appendDeviceBatch` did with a batch. */
export interface DeviceBatchResult {
  /** Records stored now. */
  readonly stored: number
  /** Records skipped because their seq was ≤ the device's lastSeq: stored before. */
  readonly duplicates: number
  /** Sequence numbers that never arrived: skipped between lastSeq and the next stored record. */
  readonly gaps: number
  /** The device's highest stored seq after the batch (what an ACK may cover). */
  readonly lastSeq: number
}

export interface LogQuery {
  device?: string
  type?: string
  subtype?: string
  level?: string
  /** receivedAt ≥ since (ms since the epoch). */
  since?: number
  /** receivedAt < until (ms since the epoch). */
  until?: number
  /** The syslog header's HOSTNAME (`LogRecordInput.hostname`). */
  hostname?: string
  appName?: string
  msgId?: string
  /** The log's own time (its `logTime`, else `receivedAt`) ≥ timeSince (ms since the epoch). */
  timeSince?: number
  /** The log's own time < timeUntil. */
  timeUntil?: number
  /** Only logs stored after this id: pass the last id seen to follow new logs. */
  afterId?: number
  /** At most this many logs (default 100). */
  limit?: number
  /** By id: "asc" (default) oldest first, "desc" newest first. */
  order?: "asc" | "desc"
  /** Held logs (of devices not authorized yet): left out by default. */
  held?: HeldFilter
}

export type LogCountQuery = Omit<LogQuery, "afterId" | "limit" | "order">

export interface SequenceReport {
  /** Stored logs of the device that carry a sequence number. */
  readonly stored: number
  /** Distinct sequence numbers among them. */
  readonly distinct: number
  /** Extra copies: stored − distinct. */
  readonly duplicated: number
  /** Numbers in [1, maxSent] not stored at all. */
  readonly missing: number
  /** The first (lowest) missing numbers, at most 20. */
  readonly firstMissing: number[]
}

const SCHEMA_VERSION = 5
/** 8 KiB pages hold six ~1.3 KB log rows; measured faster than 4 KiB and 16 KiB for appends. */
const PAGE_SIZE = 8192
const DEFAULT_LIMIT = 100
const FIRST_MISSING_MAX = 20
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


const COLUMNS =
  "id, received_at, transport, peer, format, facility, severity, device, devid, logid, type, subtype, level, eventtime, seq, raw, fields"

/** Schema version 4 had none of the syslog header columns: added empty (its logs are found by them no more than before). */
const MIGRATE_4_TO_5 = `
ALTER TABLE logs ADD COLUMN hostname TEXT;
ALTER TABLE logs ADD COLUMN app_name TEXT;
ALTER TABLE logs ADD COLUMN msg_id TEXT;
ALTER TABLE logs ADD COLUMN log_time INTEGER;
`

type Row = Record<string, SQLOutputValue>

export class LogStore {
  /** The devices that connected over OFTP, and their authorization. */
  readonly devices: DeviceRegistry
  readonly #db: DatabaseSync
  /** The file, or null for a memory store. */
  readonly #path: string | null
  readonly #insert: StatementSync
  readonly #walCheckpoint: StatementSync
  /** The store's identity across an HA group (random, kept in the file). */
  readonly uid: string
  /** Query statements by SQL text: one per combination of filters used. */
  readonly #statements = new Map<string, StatementSync>()
  #checkpointer: WalCheckpointer | undefined
  #closed = false

  private constructor(db: DatabaseSync, path: string | null) {
    this.#db = db
    this.#path = path
    this.#insert = db.prepare(
      `INSERT INTO logs (${COLUMNS.slice("id, ".length)}, held, oftp, origin, origin_id, hostname, app_name, msg_id, log_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
    )
    this.#walCheckpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)")
    this.uid = String(db.prepare("SELECT uid FROM store_info").get()?.["uid"])
    this.devices = new DeviceRegistry({
      statement: (sql) => this.#statement(sql),
      read: (run) => {
        this.#assertOpen()
        return this.#read(run)
      },
      write: (failure, run) => this.#write(failure, run)
    })
  }

  /**
   * Opens the store, creating its folder, file and schema when missing. A file store keeps
   * what earlier runs stored. Several stores (in this or other processes) may open the same
   * file; one of them should be the writer.
   */
  static open(options: { readonly path: string } | { readonly memory: true }): LogStore {
    if ("memory" in options) {
      const db = new DatabaseSync(":memory:")
      db.exec(`PRAGMA page_size = ${PAGE_SIZE}`)
      initialise(db, "the memory store")
      return new LogStore(db, null)
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
      return new LogStore(db, path)
    } catch (cause) {
      db.close()
      throw openError(cause, path)
    }
  }

  /**
   * Stores the records in one transaction. When it returns they survive a crash of this
   * process (see the module comment); when it throws, none of them was stored. Returns the id of
   * the first one (the others follow it one by one), 0 for none.
   */
  append(records: ReadonlyArray<LogRecordInput>): number {
    this.#assertOpen()
    if (records.length === 0) return 0
    return this.#write(
      (where, why) => `Could not store ${records.length} logs in ${where} (${why}); nothing of this batch was stored.`,
      () => {
        let last = 0
        for (const r of records) last = this.#insertLog(r, r.devid, 0)
        return last - records.length + 1
      }
    )
  }

  /**
   * Stores logs that came by HA sync, in one transaction, each once: a log whose origin is this
   * store, or whose origin id is at or below the origin's position, is held already and skipped.
   * The records of one origin must come in origin-id order. Returns how many were stored.
   */
  appendSynced(records: ReadonlyArray<SyncedLogInput>): number {
    this.#assertOpen()
    if (records.length === 0) return 0
    return this.#write(
      (where, why) => `Could not store ${records.length} synced logs in ${where} (${why}); nothing of this batch was stored.`,
      () => {
        const positions = new Map<string, number>()
        const position = this.#statement("SELECT up_to FROM sync_positions WHERE origin = ?")
        let stored = 0
        for (const r of records) {
          if (r.origin === this.uid) continue
          const upTo = positions.get(r.origin) ?? Number(position.get(r.origin)?.["up_to"] ?? 0)
          if (r.originId <= upTo) continue
          this.#insertLog(r, r.devid, 0, { origin: r.origin, originId: r.originId })
          positions.set(r.origin, r.originId)
          stored++
        }
        const save = this.#statement(
          "INSERT INTO sync_positions (origin, up_to) VALUES (?, ?) ON CONFLICT (origin) DO UPDATE SET up_to = excluded.up_to"
        )
        for (const [origin, upTo] of positions) save.run(origin, upTo)
        return stored
      }
    )
  }

  /**
   * What this store holds, for an HA catch-up: its own logs up to its highest id, and the logs of
   * each other origin up to its position.
   */
  syncPositions(): SyncPosition[] {
    this.#assertOpen()
    return this.#read(() => [
      { origin: this.uid, upTo: this.lastId() },
      ...this.#statement("SELECT origin, up_to FROM sync_positions ORDER BY origin").all().map((row) => ({
        origin: String(row["origin"]),
        upTo: Number(row["up_to"])
      }))
    ])
  }

  /** The highest id stored so far (0 for an empty store): logs stored later get higher ids. */
  lastId(): number {
    this.#assertOpen()
    return this.#read(() => Number(this.#statement("SELECT max(id) AS id FROM logs").get()?.["id"] ?? 0))
  }

  /**
   * HA catch-up of the logs that are not OFTP records: those with an id in (afterId, toId] that
   * a member holding `positions` lacks (origin id above its position for the origin), by id, at
   * most `limit`. Walks at most `toId - afterId` rows, so callers keep that window bounded.
   */
  logsToSync(afterId: number, toId: number, positions: ReadonlyArray<SyncPosition>, limit: number): SyncLog[] {
    this.#assertOpen()
    const sql = `SELECT ${COLUMNS}, log_time, coalesce(origin, ?) AS origin_key, coalesce(origin_id, id) AS origin_id_key FROM logs
      WHERE id > ? AND id <= ? AND oftp = 0
        AND coalesce(origin_id, id) > coalesce((SELECT value FROM json_each(?) WHERE key = coalesce(origin, ?)), 0)
      ORDER BY id LIMIT ?`
    const known = JSON.stringify(Object.fromEntries(positions.map((p) => [p.origin, p.upTo])))
    return this.#read(() =>
      this.#statement(sql).all(this.uid, afterId, toId, known, this.uid, limit).map((row) => ({
        ...toSyncableLog(row),
        origin: String(row["origin_key"]),
        originId: Number(row["origin_id_key"])
      }))
    )
  }

  /**
   * Stores one OFTP batch of the registered device `serial` in one transaction, exactly once:
   * records whose seq is ≤ the device's `lastSeq` were stored before and are skipped (counted
   * as duplicates), the others are stored (held apart when `held`) and `lastSeq` moves to the
   * highest of them. A seq beyond `lastSeq + 1` is stored too, and the numbers skipped count as
   * gaps (the sender dropped them). Each record's `devid` is stored as `serial`.
   *
   * Durable when it returns, like `append()`: acknowledge up to the returned `lastSeq` only
   * then. When it throws, nothing of the batch was stored and `lastSeq` did not move.
   */
  appendDeviceBatch(
    serial: string,
    records: ReadonlyArray<LogRecordInput & { readonly seq: number }>,
    options: { readonly held: boolean }
  ): DeviceBatchResult {
    return this.#write(
      (where, why) => `Could not store ${records.length} logs of device ${serial} in ${where} (${why}); nothing of this batch was stored.`,
      () => this.#storeDeviceBatch(serial, records, options.held)
    )
  }

  /**
   * `appendDeviceBatch` for several batches (of one device or several) in one transaction: one
   * commit instead of one per batch. Each batch is all or nothing on its own: one that fails
   * (an unknown device, a bad seq) gives its `StoreError` in its place and leaves nothing
   * stored, the others are stored. Batches of one device are stored in the order given. Durable
   * when it returns, like `appendDeviceBatch`.
   */
  appendDeviceBatches(batches: ReadonlyArray<DeviceBatch>): Array<DeviceBatchResult | StoreError> {
    return this.#write(
      (where, why) => `Could not store ${batches.length} OFTP batches in ${where} (${why}); nothing of them was stored.`,
      () =>
        batches.map((batch) => {
          this.#db.exec("SAVEPOINT device_batch")
          try {
            const result = this.#storeDeviceBatch(batch.serial, batch.records, batch.held)
            this.#db.exec("RELEASE device_batch")
            return result
          } catch (cause) {
            this.#db.exec("ROLLBACK TO device_batch")
            this.#db.exec("RELEASE device_batch")
            if (cause instanceof StoreError) return cause
            return new StoreError(
              "store-write-failed",
              `Could not store ${batch.records.length} logs of device ${batch.serial} in ${this.#location()} (${reason(cause)}); nothing of this batch was stored.`,
              { cause }
            )
          }
        })
    )
  }

  /** The body of `appendDeviceBatch`, inside a transaction. */
  #storeDeviceBatch(serial: string, records: ReadonlyArray<LogRecordInput & { readonly seq: number }>, heldBatch: boolean): DeviceBatchResult {
    const device = this.#statement("SELECT last_seq FROM devices WHERE serial = ?").get(serial)
    if (device === undefined) throw unknownDevice(serial)
    const held = heldBatch ? 1 : 0
    let lastSeq = Number(device["last_seq"])
    let stored = 0
    let duplicates = 0
    let gaps = 0
    for (const r of records) {
      if (!Number.isSafeInteger(r.seq) || r.seq < 1) throw new Error(`sequence number ${r.seq} is not an integer ≥ 1`)
      if (r.seq <= lastSeq) {
        duplicates++
        continue
      }
      this.#insertLog(r, serial, held, "oftp")
      gaps += r.seq - lastSeq - 1
      lastSeq = r.seq
      stored++
    }
    if (stored > 0) this.#statement("UPDATE devices SET last_seq = ? WHERE serial = ?").run(lastSeq, serial)
    return { stored, duplicates, gaps, lastSeq }
  }

  /** Logs matching every given filter, ordered by id. */
  query(q: LogQuery): StoredLog[] {
    this.#assertOpen()
    const limit = q.limit ?? DEFAULT_LIMIT
    checkInteger("limit", limit, 0)
    if (q.afterId !== undefined) checkInteger("afterId", q.afterId, Number.MIN_SAFE_INTEGER)
    // `+device` keeps SQLite off the (device, seq) index here: walking ids (newest first, or
    // from `afterId`) and stopping at `limit` beats collecting and sorting all of a device's logs.
    const where = whereClause(q, false)
    if (q.afterId !== undefined) {
      where.conditions.push("id > ?")
      where.params.push(q.afterId)
    }
    const sql = `SELECT ${COLUMNS} FROM logs${sqlWhere(where.conditions)} ORDER BY id ${q.order === "desc" ? "DESC" : "ASC"} LIMIT ?`
    return this.#read(() => this.#statement(sql).all(...where.params, limit).map(toStoredLog))
  }

  /** How many logs match every given filter. */
  count(q: LogCountQuery = {}): number {
    this.#assertOpen()
    // The partial indexes answer a `device` filter, and count alone when no other filter is
    // given; for other filters alone, walking an index would cost a table lookup per row.
    const otherFilters = [q.type, q.subtype, q.level, q.since, q.until, q.hostname, q.appName, q.msgId, q.timeSince, q.timeUntil].some((value) => value !== undefined)
    const where = whereClause(q, q.device !== undefined || !otherFilters)
    const sql = `SELECT count(*) AS n FROM logs${sqlWhere(where.conditions)}`
    return this.#read(() => Number(this.#statement(sql).get(...where.params)?.["n"] ?? 0))
  }

  /** Stored logs per device, by device name. */
  countByDevice(options: { readonly held?: HeldFilter } = {}): Array<{ device: string; count: number }> {
    this.#assertOpen()
    const sql = `SELECT device, count(*) AS n FROM logs${sqlWhere(heldCondition(options.held, "held"))} GROUP BY device ORDER BY device`
    return this.#read(() =>
      this.#statement(sql).all().map((row) => ({ device: String(row["device"]), count: Number(row["n"]) }))
    )
  }

  /**
   * For "none lost, none duplicated" checks: the sequence numbers stored for `device`, against
   * a sender that sent 1..maxSent. Numbers outside [1, maxSent] count as stored, never as missing.
   */
  sequenceReport(device: string, maxSent: number, options: { readonly held?: HeldFilter } = {}): SequenceReport {
    this.#assertOpen()
    checkInteger("maxSent", maxSent, 0)
    const held = heldCondition(options.held, "held").map((condition) => ` AND ${condition}`).join("")
    return this.#read(() => {
      const totals = this.#statement(
        `SELECT count(seq) AS stored, count(DISTINCT seq) AS distinctSeq FROM logs WHERE device = ? AND seq IS NOT NULL${held}`
      ).get(device)
      const inRange = this.#statement(
        `SELECT count(DISTINCT seq) AS present, max(seq) AS highest FROM logs WHERE device = ? AND seq BETWEEN 1 AND ?${held}`
      ).get(device, maxSent)
      const stored = Number(totals?.["stored"] ?? 0)
      const distinct = Number(totals?.["distinctSeq"] ?? 0)
      const missing = maxSent - Number(inRange?.["present"] ?? 0)
      const firstMissing: number[] = []
      if (missing > 0) {
        // Each row is one run of missing numbers between two stored ones (or before the first).
        const gaps = this.#statement(
          `SELECT previous + 1 AS first, seq - 1 AS last FROM (
             SELECT seq, lag(seq, 1, 0) OVER (ORDER BY seq) AS previous
             FROM (SELECT DISTINCT seq FROM logs WHERE device = ? AND seq BETWEEN 1 AND ?${held})
           ) WHERE seq > previous + 1 LIMIT ?`
        ).all(device, maxSent, FIRST_MISSING_MAX)
        const highest = inRange?.["highest"]
        // Numbers above the highest stored one (all of them when none is stored).
        gaps.push({ first: (typeof highest === "number" ? highest : 0) + 1, last: maxSent })
        for (const gap of gaps) {
          for (let n = Number(gap["first"]); n <= Number(gap["last"]) && firstMissing.length < FIRST_MISSING_MAX; n++) {
            firstMissing.push(n)
          }
        }
      }
      return { stored, distinct, duplicated: stored - distinct, missing, firstMissing }
    })
  }

  /**
   * HA catch-up: the OFTP logs of device `serial` (held ones too) with a seq above `afterSeq`,
   * by seq, at most `limit`. Scans the table: meant for a member that rejoins, not for intake.
   */
  deviceLogsAfter(serial: string, afterSeq: number, limit: number): Array<StoredLog & { readonly seq: number; readonly held: boolean; readonly logTime: number | null }> {
    this.#assertOpen()
    const sql = `SELECT ${COLUMNS}, held, log_time FROM logs WHERE devid = ? AND oftp = 1 AND seq > ? ORDER BY seq LIMIT ?`
    return this.#read(() =>
      this.#statement(sql).all(serial, afterSeq, limit).map((row) => ({ ...toSyncableLog(row), seq: Number(row["seq"]), held: row["held"] === 1 }))
    )
  }

  /** Closes the store (finishing the file's pending checkpoint). Idempotent. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#checkpointer?.stop()
    this.#db.close()
  }

  /**
   * Before a transaction on a file store: start the checkpoint worker on the first append, run
   * the checkpoint it asks for, or fall back to SQLite's automatic checkpoints if it died.
   */
  #tendWal(path: string): void {
    const checkpointer = this.#checkpointer
    if (checkpointer === undefined) {
      this.#db.exec("PRAGMA wal_autocheckpoint = 0")
      this.#checkpointer = WalCheckpointer.start(path, PAGE_SIZE)
    } else if (checkpointer.failed) {
      this.#db.exec("PRAGMA wal_autocheckpoint = 1000")
    } else if (checkpointer.resetWanted) {
      this.#walCheckpoint.get()
      checkpointer.resetDone()
    }
  }

  /**
   * Runs `run` in one write transaction (on a file store, tending the WAL first). When `run`
   * throws, nothing it did stays; a StoreError goes on as it is, anything else becomes a
   * "store-write-failed" StoreError whose message is `failure(where, why)`.
   */
  #write<T>(failure: (where: string, why: string) => string, run: () => T): T {
    this.#assertOpen()
    if (this.#path !== null) this.#tendWal(this.#path)
    try {
      this.#db.exec("BEGIN IMMEDIATE")
      const result = run()
      this.#db.exec("COMMIT")
      return result
    } catch (cause) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK")
      if (cause instanceof StoreError) throw cause
      throw new StoreError("store-write-failed", failure(this.#location(), reason(cause)), { cause })
    }
  }

  /** Inserts one log; returns its id. `via` is "oftp" for an OFTP record, the origin for a synced log. */
  #insertLog(r: LogRecordInput, devid: string | null, held: 0 | 1, via?: "oftp" | { readonly origin: string; readonly originId: number }): number {
    const synced = typeof via === "object" ? via : null
    const result = this.#insert.run(
      r.receivedAt,
      r.transport,
      r.peer,
      r.format,
      r.facility,
      r.severity,
      r.device,
      devid,
      r.logid,
      r.type,
      r.subtype,
      r.level,
      r.eventtime,
      r.seq,
      r.rawBytes === undefined ? r.raw : Buffer.from(r.rawBytes, "base64"),
      r.fields === "from-raw" ? "" : r.fields === null ? null : JSON.stringify(r.fields),
      held,
      via === "oftp" ? 1 : 0,
      synced?.origin ?? null,
      synced?.originId ?? null,
      r.hostname ?? null,
      r.appName ?? null,
      r.msgId ?? null,
      r.logTime ?? null
    )
    return Number(result.lastInsertRowid)
  }

  #statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql)
    if (statement === undefined) {
      statement = this.#db.prepare(sql)
      this.#statements.set(sql, statement)
    }
    return statement
  }

  #read<T>(run: () => T): T {
    try {
      return run()
    } catch (cause) {
      if (cause instanceof StoreError) throw cause
      throw new StoreError("store-read-failed", `Could not read the log store ${this.#location()} (${reason(cause)}).`, { cause })
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreError("store-closed", `The log store ${this.#location()} is closed; open it again to use it.`)
  }

  #location(): string {
    return this.#path ?? "in memory"
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

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function checkInteger(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new StoreError("store-bad-query", `The log query's ${name} must be an integer ≥ ${min}, got ${value}.`)
  }
}

/**
 * The conditions for a read. `indexed` writes `device` and `held` so that SQLite may use the
 * partial indexes; otherwise as `+device` and `+held`, which keeps it on the table.
 */
function whereClause(q: LogCountQuery, indexed: boolean): { conditions: string[]; params: SQLInputValue[] } {
  const conditions = heldCondition(q.held, indexed ? "held" : "+held")
  const params: SQLInputValue[] = []
  const add = (condition: string, value: SQLInputValue): void => {
    conditions.push(condition)
    params.push(value)
  }
  if (q.device !== undefined) add(`${indexed ? "device" : "+device"} = ?`, q.device)
  if (q.type !== undefined) add("type = ?", q.type)
  if (q.subtype !== undefined) add("subtype = ?", q.subtype)
  if (q.level !== undefined) add("level = ?", q.level)
  if (q.since !== undefined) add("received_at >= ?", q.since)
  if (q.until !== undefined) add("received_at < ?", q.until)
  if (q.hostname !== undefined) add("hostname = ?", q.hostname)
  if (q.appName !== undefined) add("app_name = ?", q.appName)
  if (q.msgId !== undefined) add("msg_id = ?", q.msgId)
  if (q.timeSince !== undefined) add("coalesce(log_time, received_at) >= ?", q.timeSince)
  if (q.timeUntil !== undefined) add("coalesce(log_time, received_at) < ?", q.timeUntil)
  return { conditions, params }
}

/** The condition (none or one) that selects logs by `held` (default "exclude"). */
function heldCondition(held: HeldFilter | undefined, column: "held" | "+held"): string[] {
  switch (held ?? "exclude") {
    case "exclude":
      return [`${column} = 0`]
    case "only":
      return [`${column} = 1`]
    case "include":
      return []
  }
}

function sqlWhere(conditions: ReadonlyArray<string>): string {
  return conditions.length === 0 ? "" : ` WHERE ${conditions.join(" AND ")}`
}

function toStoredLog(row: Row): StoredLog {
  const fields = row["fields"]
  const stored = row["raw"]
  const receivedAt = Number(row["received_at"])
  // A message that is not UTF-8 is stored as its bytes (a BLOB), anything else as text.
  const bytes = stored instanceof Uint8Array ? Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength) : null
  const raw = bytes === null ? String(stored) : bytes.toString("utf8")
  const parsed = parseSyslog(bytes ?? Buffer.from(raw, "utf8"), { now: receivedAt })
  const syslog = parsed.ok ? parsed : null
  return {
    id: Number(row["id"]),
    receivedAt,
    transport: row["transport"] as StoredLog["transport"],
    peer: String(row["peer"]),
    format: row["format"] as StoredLog["format"],
    facility: Number(row["facility"]),
    severity: Number(row["severity"]),
    device: String(row["device"]),
    devid: textOrNull(row["devid"]),
    logid: textOrNull(row["logid"]),
    type: textOrNull(row["type"]),
    subtype: textOrNull(row["subtype"]),
    level: textOrNull(row["level"]),
    eventtime: textOrNull(row["eventtime"]),
    seq: row["seq"] === null ? null : Number(row["seq"]),
    raw,
    ...(bytes === null ? {} : { rawBytes: bytes.toString("base64") }),
    ...(typeof fields !== "string" ? { fields: null } : fields === "" ? readRaw(raw, syslog) : { fields: JSON.parse(fields) as Record<string, string> }),
    timestamp: syslog?.timestamp ?? null,
    time: syslog?.time == null ? null : formatInstant(syslog.time),
    offset: syslog?.time == null ? null : formatOffset(syslog.time.offset),
    hostname: syslog?.hostname ?? null,
    appName: syslog?.appName ?? null,
    procId: syslog?.procId ?? null,
    msgId: syslog?.msgId ?? null,
    structuredData: syslog?.structuredData ?? null,
    message: syslog?.message ?? null,
    messageBytes: syslog?.messageBytes?.toString("base64") ?? null,
    bom: syslog?.bom ?? false
  }
}

/** A row with the columns HA sync needs besides the stored log's own: its `logTime`. */
const toSyncableLog = (row: Row): StoredLog & { readonly logTime: number | null } => ({
  ...toStoredLog(row),
  logTime: row["log_time"] === null || row["log_time"] === undefined ? null : Number(row["log_time"])
})

/**
 * The FortiOS fields of a stored `raw` (best effort, and what was skipped when it is cut or
 * damaged): those of the syslog message (`syslog`, its `parseSyslog`) when it is one, else of
 * `raw` as a bare key=value record (what OFTP carries); null fields when it has none.
 */
function readRaw(raw: string, syslog: ParsedSyslog | null): { readonly fields: Record<string, string> | null; readonly damage?: KvDamageReport } {
  const read = syslog ?? parseKeyValuesBestEffort(raw)
  return read === null ? { fields: null } : read.damage === null ? { fields: read.fields } : { fields: read.fields, damage: read.damage }
}

/** The FortiOS fields of a stored `raw` (see `readRaw`). */
export function fieldsOfRaw(raw: string): Record<string, string> | null {
  const parsed = parseSyslog(Buffer.from(raw, "utf8"))
  return readRaw(raw, parsed.ok ? parsed : null).fields
}

function textOrNull(value: SQLOutputValue | undefined): string | null {
  return value === null || value === undefined ? null : String(value)
}
