/**
 * Batches syslog into the analyzer's store and reports each batch on the event bus.
 *
 * Syslog frames come in through `addFrame`, records already parsed (the HTTPS intake) through
 * `add`. Frames are parsed (`syslog-record.ts`) and stored either on this thread or, for a file
 * store on the real clock, on the analyzer's store thread (`store-thread.ts`), which keeps the
 * parse and the SQLite transaction off the thread that reads the sockets. Either way what was
 * received is written in batches: at once when `maxBatch` are pending, else `flushDelayMs` after
 * the first pending one arrived. A transaction per batch, not per event-loop turn, keeps intake
 * fast (the kernel hands UDP over 32 datagrams per poll, far too few per transaction) while no
 * log waits longer than a few milliseconds. 1,000 logs per transaction cost no more per log than
 * 5,000 (measured), hold a transaction a fifth as long and keep fewer logs alive long enough to
 * reach V8's old space. Each stored batch publishes one `logs-stored` event per sending device,
 * never one per log, once its transaction has committed; malformed frames are handed to
 * `rejected`, and logs stored with only part of their fields (cut or damaged) to `partial`
 * (both counted and published by the intake).
 *
 * With the store thread, a log is stored at most `MAX_IN_FLIGHT` batches (4,000 logs) plus
 * `flushDelayMs` after it was received; `flush()` waits for all of it, so what it promises (every
 * log received so far is stored when it returns) holds for both.
 */
import type { EventBus } from "../../events/bus.ts"
import type { LogRecordInput } from "../../store/log-record.ts"
import type { LogStore } from "../../store/log-store.ts"
import { type BatchReport, type FrameBatch, type PartialLog, type Rejected, StoreThread } from "./store-thread.ts"
import { datagramRecord, isRejection, type SyslogRejection, syslogRecord } from "./syslog-record.ts"

/** Frames waiting for the store thread, with their transports and senders (runs of one peer). */
class PendingFrames {
  frames: Buffer[] = []
  transports: number[] = []
  peers: string[] = []
  peerStarts: number[] = []
  bytes = 0

  add(frame: Buffer, udp: boolean, peer: string): void {
    if (this.peers.at(-1) !== peer) {
      this.peers.push(peer)
      this.peerStarts.push(this.frames.length)
    }
    this.frames.push(frame)
    this.transports.push(udp ? 1 : 0)
    this.bytes += frame.length
  }

  clear(): void {
    this.frames = []
    this.transports = []
    this.peers = []
    this.peerStarts = []
    this.bytes = 0
  }

  /** The frames copied into one buffer, for the thread; empties this. */
  take(): FrameBatch {
    const bytes = Buffer.allocUnsafeSlow(this.bytes)
    const ends = new Uint32Array(this.frames.length)
    let at = 0
    for (let i = 0; i < this.frames.length; i++) {
      at += (this.frames[i] as Buffer).copy(bytes, at)
      ends[i] = at
    }
    const batch = { bytes: bytes.buffer, ends, transports: Uint8Array.from(this.transports), peers: this.peers, peerStarts: this.peerStarts }
    this.clear()
    return batch
  }
}

export class StoreWriter {
  readonly #store: LogStore
  readonly #bus: EventBus
  readonly #analyzer: string
  readonly #maxBatch: number
  readonly #maxFrameBytes: number
  #pending: LogRecordInput[] = []
  readonly #frames = new PendingFrames()
  readonly #flushDelayMs: number
  #scheduled: NodeJS.Timeout | null = null
  readonly #storedByDevice = new Map<string, number>()
  /** Sees every batch once it is stored, with the id of its first log (HA log sync forwards it to the secondaries). */
  readonly #onStored: ((batch: ReadonlyArray<LogRecordInput>, firstId: number) => void) | undefined
  readonly #rejected: (rejected: Rejected) => void
  readonly #partial: (partial: PartialLog) => void
  readonly #accepted: (count: number) => void
  /** The store file a store thread would write to (null: parse and store on this thread). */
  readonly #threadPath: string | null
  /** Where frames are parsed and stored, once the first frame came (null: not started, or on this thread). */
  #thread: StoreThread | null = null
  /** Whether the last batch the thread answered was stored (for `flush()`'s answer). */
  #threadStored = true

  constructor(options: {
    readonly store: LogStore
    readonly bus: EventBus
    readonly analyzer: string
    /** Datagrams over this many bytes are rejected. */
    readonly maxFrameBytes: number
    /** A frame that cannot be stored, and why. */
    readonly rejected: (rejected: Rejected) => void
    /** A log stored with only its well-formed fields, and what was cut or damaged. */
    readonly partial: (partial: PartialLog) => void
    /** Frames parsed into records (counted as received). */
    readonly accepted: (count: number) => void
    readonly maxBatch?: number
    readonly flushDelayMs?: number
    readonly onStored?: (batch: ReadonlyArray<LogRecordInput>, firstId: number) => void
    /** Parse and store frames on a store thread with its own connection to this file (null: on this thread). */
    readonly threadPath?: string | null
  }) {
    this.#store = options.store
    this.#bus = options.bus
    this.#analyzer = options.analyzer
    this.#maxBatch = options.maxBatch ?? 1000
    this.#maxFrameBytes = options.maxFrameBytes
    this.#flushDelayMs = options.flushDelayMs ?? 5
    this.#onStored = options.onStored
    this.#rejected = options.rejected
    this.#partial = options.partial
    this.#accepted = options.accepted
    this.#threadPath = options.threadPath ?? null
  }

  /**
   * One syslog frame from `peer` ("address:port"): a datagram (`udp`) or a TCP frame. The store
   * thread starts with the first frame, so an analyzer that never gets syslog (an HA secondary,
   * OFTP only) costs no thread, and a lab's start does not wait for one.
   */
  addFrame(frame: Buffer, transport: "udp" | "tcp", peer: string): void {
    if (this.#thread === null && this.#threadPath !== null) {
      this.#thread = new StoreThread({ path: this.#threadPath, maxFrameBytes: this.#maxFrameBytes, returnRecords: this.#onStored !== undefined, onReport: this.#onThreadReport })
    }
    if (this.#thread?.alive === true) {
      this.#frames.add(frame, transport === "udp", peer)
      if (this.#frames.frames.length >= this.#maxBatch) this.#postFrames()
      else this.#schedule()
      return
    }
    const result: LogRecordInput | SyslogRejection = transport === "udp" ? datagramRecord(frame, peer, this.#maxFrameBytes) : syslogRecord(frame, "tcp", peer)
    if (isRejection(result)) {
      this.#rejected({ port: transport === "udp" ? "udp/514" : "tcp/514", peer, reason: result.reason, detail: result.detail })
      return
    }
    this.#accepted(1)
    if (result.damage !== undefined) this.#partial({ port: transport === "udp" ? "udp/514" : "tcp/514", peer, damage: result.damage })
    this.add(result)
  }

  /** A record already parsed. */
  add(record: LogRecordInput): void {
    this.#pending.push(record)
    if (this.#pending.length >= this.#maxBatch) this.flush()
    else this.#schedule()
  }

  #schedule(): void {
    this.#scheduled ??= setTimeout(() => this.#flushSoon(), this.#flushDelayMs)
  }

  /** The timer's flush: frames go to the thread without waiting for it. */
  #flushSoon(): void {
    this.#scheduled = null
    this.#postFrames()
    if (this.#pending.length > 0) this.flush()
  }

  #postFrames(): void {
    const thread = this.#thread
    if (thread === null || this.#frames.frames.length === 0) return
    thread.post(this.#frames.take())
  }

  /**
   * Stores everything received so far (on the thread: hands it over and waits for it), then what
   * is pending here, in one transaction; called on close too, so nothing received is dropped.
   * False when the store refused some of it (then dropped).
   */
  flush(): boolean {
    if (this.#scheduled !== null) {
      clearTimeout(this.#scheduled)
      this.#scheduled = null
    }
    this.#threadStored = true
    this.#postFrames()
    this.#thread?.drain()
    const stored = this.#threadStored
    const batch = this.#pending
    if (batch.length === 0) return stored
    this.#pending = []
    let firstId: number
    try {
      firstId = this.#store.append(batch)
    } catch (error) {
      // A full disk, a lock held too long: syslog is never acknowledged, so the batch is dropped,
      // said once per batch, and the analyzer goes on (flush runs from timers and socket handlers).
      // The HTTPS intake flushes before it answers, and answers 503 when this happens.
      this.#failed(batch.length, error instanceof Error ? error.message : String(error))
      return false
    }
    this.#storedBatch(batch, firstId)
    return stored
  }

  readonly #onThreadReport = (report: BatchReport): void => {
    for (const rejected of report.rejected) this.#rejected(rejected)
    this.#accepted(report.accepted)
    if (report.kind === "failed") {
      this.#threadStored = false
      if (report.accepted > 0) this.#failed(report.accepted, report.reason)
      return
    }
    for (const partial of report.partial) this.#partial(partial)
    if (report.records !== null && report.records.length > 0) this.#onStored?.(report.records, report.firstId)
    for (const [from, count] of report.perDevice) this.announce(from, count)
  }

  #storedBatch(batch: ReadonlyArray<LogRecordInput>, firstId: number): void {
    this.#onStored?.(batch, firstId)
    const perDevice = new Map<string, number>()
    for (const record of batch) perDevice.set(record.device, (perDevice.get(record.device) ?? 0) + 1)
    for (const [from, count] of perDevice) this.announce(from, count)
  }

  #failed(dropped: number, reason: string): void {
    this.#bus.publish({ type: "store-failed", device: this.#analyzer, dropped, reason })
  }

  /** Publishes `logs-stored` for logs stored by this writer or beside it (OFTP batches), keeping one total per sender. */
  announce(from: string, count: number): void {
    const total = (this.#storedByDevice.get(from) ?? 0) + count
    this.#storedByDevice.set(from, total)
    this.#bus.publish({ type: "logs-stored", device: this.#analyzer, from, count, total })
  }

  /**
   * Forgets what is pending without writing it: the analyzer crashed. Batches already handed to
   * the store thread count as stored before the crash: they are waited for.
   */
  discard(): void {
    if (this.#scheduled !== null) clearTimeout(this.#scheduled)
    this.#scheduled = null
    this.#pending = []
    this.#frames.clear()
    this.#thread?.drain()
  }

  /** Stores what is pending and ends the store thread (before the store closes); a later frame starts a new one. */
  close(): void {
    this.flush()
    this.#thread?.close()
    this.#thread = null
  }

  storedFrom(device: string): number {
    return this.#storedByDevice.get(device) ?? 0
  }
}
