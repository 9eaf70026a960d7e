/**
 * The analyzer's durable log store: every log an emulated FortiAnalyzer accepts (syslog, and
 * OFTP batches through `appendDeviceBatch`) in one SQLite table (Node's built-in `node:sqlite`),
 * with the registry of OFTP devices (`store.devices`, see `device-registry.ts`) in the same file;
 * queryable by the CLI (`fazlab logs`, from another process), the UI and the expectation checker.
 * This module holds the store's connection and its writes; the file and its schema are in
 * `store-file.ts`, a stored log and its row in `log-record.ts`, the reads in `log-queries.ts`.
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
 * HA sync positions (schema version 3, docs/protocols/ha.md "Catch-up"): every store has a random
 * `uid`, kept in the file. A log that is not an OFTP record (syslog, HTTPS; OFTP rows are marked
 * `oftp = 1` and deduplicated by their device's `lastSeq`) is known across a group by its origin:
 * the `uid` of the store that first stored it and its `id` there. A log stored here first has
 * NULL `origin` and `origin_id` (its own `id`); one that came by HA sync keeps the sender's
 * origin (`appendSynced`). Per origin the store keeps `up_to`, the highest origin id it holds:
 * logs of one origin arrive in origin-id order, so a store holds every log of that origin up to
 * it, and a log at or below it is a duplicate.
 */
import type { DatabaseSync, StatementSync } from "node:sqlite"
import { WalCheckpointer } from "./checkpointer.ts"
import { DeviceRegistry, unknownDevice } from "./device-registry.ts"
import { type HeldFilter, type LogCountQuery, type LogQuery, LogReads, type SequenceReport } from "./log-queries.ts"
import { COLUMNS, INSERT_LOG, insertLog, type LogRecordInput, type StoredLog, type SyncedLogInput, type SyncLog, type SyncPosition, toSyncableLog } from "./log-record.ts"
import type { StoreAccess } from "./store-access.ts"
import { StoreError } from "./store-error.ts"
import { openDatabase, PAGE_SIZE, reason } from "./store-file.ts"

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

export class LogStore {
  /** The devices that connected over OFTP, and their authorization. */
  readonly devices: DeviceRegistry
  readonly #db: DatabaseSync
  /** The file, or null for a memory store. */
  readonly #path: string | null
  readonly #insert: StatementSync
  readonly #reads: LogReads
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
    this.#insert = db.prepare(INSERT_LOG)
    this.#walCheckpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)")
    this.uid = String(db.prepare("SELECT uid FROM store_info").get()?.["uid"])
    const access: StoreAccess = {
      statement: (sql) => this.#statement(sql),
      read: (run) => {
        this.#assertOpen()
        return this.#read(run)
      },
      write: (failure, run) => this.#write(failure, run)
    }
    this.devices = new DeviceRegistry(access)
    this.#reads = new LogReads(access)
  }

  /**
   * Opens the store, creating its folder, file and schema when missing (`store-file.ts`). A file
   * store keeps what earlier runs stored. Several stores (in this or other processes) may open
   * the same file; one of them should be the writer.
   */
  static open(options: { readonly path: string } | { readonly memory: true }): LogStore {
    const { db, path } = openDatabase(options)
    return new LogStore(db, path)
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
   * `which` "visible" takes every log that is not held, OFTP records included (log aggregation
   * sends them all as logs of their origin).
   */
  logsToSync(afterId: number, toId: number, positions: ReadonlyArray<SyncPosition>, limit: number, which: "not-oftp" | "visible" = "not-oftp"): SyncLog[] {
    this.#assertOpen()
    const sql = `SELECT ${COLUMNS}, log_time, coalesce(origin, ?) AS origin_key, coalesce(origin_id, id) AS origin_id_key FROM logs
      WHERE id > ? AND id <= ? AND ${which === "visible" ? "held = 0" : "oftp = 0"}
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
    return this.#reads.query(q)
  }

  /** How many logs match every given filter. */
  count(q: LogCountQuery = {}): number {
    this.#assertOpen()
    return this.#reads.count(q)
  }

  /** Stored logs per device, by device name. */
  countByDevice(options: { readonly held?: HeldFilter } = {}): Array<{ device: string; count: number }> {
    this.#assertOpen()
    return this.#reads.countByDevice(options)
  }

  /**
   * For "none lost, none duplicated" checks: the sequence numbers stored for `device`, against
   * a sender that sent 1..maxSent. Numbers outside [1, maxSent] count as stored, never as missing.
   */
  sequenceReport(device: string, maxSent: number, options: { readonly held?: HeldFilter } = {}): SequenceReport {
    this.#assertOpen()
    return this.#reads.sequenceReport(device, maxSent, options)
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
    return insertLog(this.#insert, r, devid, held, via)
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
