/**
 * A FortiGate's queue of logs for its analyzer: memory first, then disk when
 * `faz-disk-buffer-size` is set, the oldest dropped (and counted) when both are full.
 *
 * Records stay queued until the analyzer acknowledges them (`ack`), so a lost link or a dead
 * analyzer loses nothing that was not already dropped for room. Records are in sequence order:
 * the memory part holds the oldest, the disk part (a small SQLite table in the device's data
 * folder) the newer ones, moved into memory as it frees up.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { DatabaseSync, type StatementSync } from "node:sqlite"

export interface QueuedLog {
  readonly seq: number
  readonly text: string
}

class DiskSpill {
  readonly #db: DatabaseSync
  readonly #insert: StatementSync
  readonly #takeOldest: StatementSync
  readonly #deleteUpTo: StatementSync
  readonly #renumber: StatementSync
  readonly #unflip: StatementSync
  readonly #lastSeq: StatementSync
  readonly maxBytes: number
  bytes = 0
  count = 0

  constructor(file: string, maxBytes: number) {
    if (file !== ":memory:") fs.mkdirSync(path.dirname(file), { recursive: true })
    this.#db = new DatabaseSync(file)
    this.#db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; CREATE TABLE IF NOT EXISTS queue (seq INTEGER PRIMARY KEY, text TEXT NOT NULL)")
    this.#insert = this.#db.prepare("INSERT OR REPLACE INTO queue (seq, text) VALUES (?, ?)")
    this.#takeOldest = this.#db.prepare("SELECT seq, text FROM queue ORDER BY seq LIMIT ?")
    this.#deleteUpTo = this.#db.prepare("DELETE FROM queue WHERE seq <= ?")
    this.#renumber = this.#db.prepare("UPDATE queue SET seq = -(seq + ?)")
    this.#unflip = this.#db.prepare("UPDATE queue SET seq = -seq")
    this.#lastSeq = this.#db.prepare("SELECT coalesce(max(seq), 0) AS seq FROM queue")
    const row = this.#db.prepare("SELECT count(*) AS n, coalesce(sum(length(text)), 0) AS b FROM queue").get() as { n: number; b: number }
    this.count = row.n
    this.bytes = row.b
    this.maxBytes = maxBytes
  }

  push(log: QueuedLog): void {
    this.#insert.run(log.seq, log.text)
    this.count++
    this.bytes += Buffer.byteLength(log.text)
  }

  /** Removes and returns up to `n` of the oldest records. */
  take(n: number): QueuedLog[] {
    const rows = this.#takeOldest.all(n) as Array<{ seq: number; text: string }>
    const last = rows.at(-1)
    if (last !== undefined) {
      this.#deleteUpTo.run(last.seq)
      this.count -= rows.length
      for (const row of rows) this.bytes -= Buffer.byteLength(row.text)
    }
    return rows
  }

  /** Adds `offset` to every sequence number (in two passes, so that no two rows share one on the way). */
  renumber(offset: number): void {
    this.#db.exec("BEGIN")
    this.#renumber.run(offset)
    this.#unflip.run()
    this.#db.exec("COMMIT")
  }

  /** The highest sequence number kept, 0 when empty. */
  lastSeq(): number {
    return (this.#lastSeq.get() as { seq: number }).seq
  }

  close(): void {
    this.#db.close()
  }
}

export class LogQueue {
  readonly #memoryLimit: number
  readonly #disk: DiskSpill | null
  #memory: QueuedLog[] = []
  #head = 0
  dropped = 0

  /**
   * @param memoryRecords records the memory part holds
   * @param disk the spill file (":memory:" for an in-memory lab) and its size limit (`faz-disk-buffer-size`), or null for memory only
   */
  constructor(options: { readonly memoryRecords: number; readonly disk: { readonly file: string; readonly maxBytes: number } | null }) {
    this.#memoryLimit = options.memoryRecords
    this.#disk = options.disk === null ? null : new DiskSpill(options.disk.file, options.disk.maxBytes)
    this.#refill()
  }

  get size(): number {
    return this.#memory.length - this.#head + (this.#disk?.count ?? 0)
  }

  get onDisk(): number {
    return this.#disk?.count ?? 0
  }

  /** The oldest queued sequence number, or null when empty. */
  get firstSeq(): number | null {
    this.#refill()
    return this.#memory[this.#head]?.seq ?? null
  }

  /** The highest queued sequence number, 0 when empty (a disk buffer kept from an earlier run counts). */
  get lastSeq(): number {
    const disk = this.#disk
    return disk !== null && disk.count > 0 ? disk.lastSeq() : (this.#memory.at(-1)?.seq ?? 0)
  }

  /** Adds `offset` to the sequence number of every queued record (see FazLogger: a device that lost its numbering). */
  renumber(offset: number): void {
    this.#memory = this.#memory.slice(this.#head).map((log) => ({ seq: log.seq + offset, text: log.text }))
    this.#head = 0
    this.#disk?.renumber(offset)
  }

  /** Queues a record; returns how many of the oldest records were dropped to make room. */
  push(log: QueuedLog): number {
    const inMemory = this.#memory.length - this.#head
    const disk = this.#disk
    if (inMemory < this.#memoryLimit && (disk === null || disk.count === 0)) {
      this.#memory.push(log)
      return 0
    }
    if (disk !== null && disk.bytes + Buffer.byteLength(log.text) <= disk.maxBytes) {
      disk.push(log)
      return 0
    }
    // Full: FortiOS drops the oldest logs.
    this.#head++
    this.dropped++
    this.#refill()
    if (disk !== null && disk.count > 0) disk.push(log)
    else this.#memory.push(log)
    this.#compact()
    return 1
  }

  /** Forgets every record up to and including `upTo` (the analyzer has stored them). */
  ack(upTo: number): number {
    let removed = 0
    for (;;) {
      while (this.#head < this.#memory.length && (this.#memory[this.#head]?.seq ?? Infinity) <= upTo) {
        this.#head++
        removed++
      }
      const before = this.#memory.length
      this.#refill()
      // Records moved in from the disk buffer may be acknowledged too.
      if (this.#memory.length === before || (this.#memory[this.#head]?.seq ?? Infinity) > upTo) break
    }
    this.#compact()
    return removed
  }

  /** Up to `max` queued records with a sequence number above `afterSeq`, oldest first. */
  after(afterSeq: number, max: number): QueuedLog[] {
    const memory = this.#memory
    let low = this.#head
    let high = memory.length
    while (low < high) {
      const mid = (low + high) >>> 1
      if ((memory[mid]?.seq ?? Infinity) <= afterSeq) low = mid + 1
      else high = mid
    }
    return memory.slice(low, low + max)
  }

  close(): void {
    this.#disk?.close()
  }

  #refill(): void {
    const disk = this.#disk
    if (disk === null || disk.count === 0) return
    const room = this.#memoryLimit - (this.#memory.length - this.#head)
    if (room > 0) for (const log of disk.take(room)) this.#memory.push(log)
  }

  #compact(): void {
    if (this.#head > 4096 && this.#head * 2 > this.#memory.length) {
      this.#memory = this.#memory.slice(this.#head)
      this.#head = 0
    }
  }
}
