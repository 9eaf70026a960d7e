/**
 * Batches parsed logs into the analyzer's store and reports each batch on the event bus.
 *
 * Logs are written in batches: at once when `maxBatch` are pending, else `flushDelayMs` after
 * the first pending one arrived. A transaction per batch, not per event-loop turn, keeps
 * intake fast (the kernel hands UDP over 32 datagrams per poll, far too few per transaction)
 * while no log waits longer than a few milliseconds. 1,000 logs per transaction cost no more per
 * log than 5,000 (measured), hold the event loop a fifth as long (UDP datagrams wait in the
 * kernel meanwhile) and keep fewer logs alive long enough to reach V8's old space. Each flush publishes one `logs-stored`
 * event per sending device, never one per log.
 */
import type { EventBus } from "../../events/bus.ts"
import type { LogRecordInput, LogStore } from "../../store/log-store.ts"

export class StoreWriter {
  readonly #store: LogStore
  readonly #bus: EventBus
  readonly #analyzer: string
  readonly #maxBatch: number
  #pending: LogRecordInput[] = []
  readonly #flushDelayMs: number
  #scheduled: NodeJS.Timeout | null = null
  readonly #storedByDevice = new Map<string, number>()
  /** Sees every batch once it is stored, with the id of its first log (HA log sync forwards it to the secondaries). */
  readonly #onStored: ((batch: ReadonlyArray<LogRecordInput>, firstId: number) => void) | undefined

  constructor(options: {
    readonly store: LogStore
    readonly bus: EventBus
    readonly analyzer: string
    readonly maxBatch?: number
    readonly flushDelayMs?: number
    readonly onStored?: (batch: ReadonlyArray<LogRecordInput>, firstId: number) => void
  }) {
    this.#store = options.store
    this.#bus = options.bus
    this.#analyzer = options.analyzer
    this.#maxBatch = options.maxBatch ?? 1000
    this.#flushDelayMs = options.flushDelayMs ?? 5
    this.#onStored = options.onStored
  }

  add(record: LogRecordInput): void {
    this.#pending.push(record)
    if (this.#pending.length >= this.#maxBatch) this.flush()
    else this.#scheduled ??= setTimeout(() => this.flush(), this.#flushDelayMs)
  }

  /** Writes what is pending in one transaction; called on close too, so nothing received is dropped. False when the store refused it (then dropped). */
  flush(): boolean {
    if (this.#scheduled !== null) {
      clearTimeout(this.#scheduled)
      this.#scheduled = null
    }
    const batch = this.#pending
    if (batch.length === 0) return true
    this.#pending = []
    let firstId: number
    try {
      firstId = this.#store.append(batch)
    } catch (error) {
      // A full disk, a lock held too long: syslog is never acknowledged, so the batch is dropped,
      // said once per batch, and the analyzer goes on (flush runs from timers and socket handlers).
      // The HTTPS intake flushes before it answers, and answers 503 when this happens.
      this.#bus.publish({ type: "store-failed", device: this.#analyzer, dropped: batch.length, reason: error instanceof Error ? error.message : String(error) })
      return false
    }
    this.#onStored?.(batch, firstId)
    const perDevice = new Map<string, number>()
    for (const record of batch) perDevice.set(record.device, (perDevice.get(record.device) ?? 0) + 1)
    for (const [from, count] of perDevice) this.announce(from, count)
    return true
  }

  /** Publishes `logs-stored` for logs stored by this writer or beside it (OFTP batches), keeping one total per sender. */
  announce(from: string, count: number): void {
    const total = (this.#storedByDevice.get(from) ?? 0) + count
    this.#storedByDevice.set(from, total)
    this.#bus.publish({ type: "logs-stored", device: this.#analyzer, from, count, total })
  }

  /** Forgets what is pending without writing it: the analyzer crashed. */
  discard(): void {
    if (this.#scheduled !== null) clearTimeout(this.#scheduled)
    this.#scheduled = null
    this.#pending = []
  }

  storedFrom(device: string): number {
    return this.#storedByDevice.get(device) ?? 0
  }
}
