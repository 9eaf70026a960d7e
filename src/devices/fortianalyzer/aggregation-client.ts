/**
 * The client side of log aggregation: a `config system log-forward` entry of mode `aggregation`
 * sends the logs this analyzer stored to another analyzer's TCP/3000 (`aggregation-server.ts`),
 * only what that one lacks (as FortiAnalyzer 7.x does): it logs in as `agg-user`, reads the
 * server's positions (per origin store, the highest origin id it holds), then sends every stored
 * log that is not held and is past them, by id, in batches, waiting for each batch's `stored`
 * before the next. A run that fails (server down, refused, cut) ends with why; the next run starts
 * again from the server's positions, so a batch whose acknowledgement was lost is sent again and
 * the server keeps it once.
 *
 * It runs when the analyzer starts and then every `agg-interval` of lab time (fazlab's stand-in
 * for `agg-time`, the daily hour: docs/protocols/log-aggregation.md); with `agg-schedule
 * on-demand` only at start. Each run is one `log-aggregation` event (`sent` or `failed`).
 */
import type * as tls from "node:tls"
import { errorMessage } from "../../machines/shared/reasons.ts"
import {
  AGGREGATION_BATCH,
  AGGREGATION_MAX_LINE_BYTES,
  type AggregationFrame,
  decodeAggregationLine,
  encodeAggregationFrame
} from "../../protocols/aggregation/frames.ts"
import { LineReader } from "../../protocols/shared/line-reader.ts"
import type { LogStore } from "../../store/log-store.ts"
import type { DeviceContext } from "../device.ts"
import { DeviceDialer } from "../shared/client-link.ts"
import { AGGREGATION_PORT } from "./aggregation-server.ts"
import type { LogForwardEntry } from "./log-forward.ts"

/** Log ids walked per store read. */
const SCAN_WINDOW = 10_000

export interface AggregationClientOptions {
  readonly analyzer: string
  readonly serial: string
  readonly context: DeviceContext
  readonly store: LogStore
  readonly entries: ReadonlyArray<LogForwardEntry>
}

/** Reads frames off a TLS socket, one at a time. */
class FrameReader {
  readonly #queue: Array<AggregationFrame | Error> = []
  #waiting: ((frame: AggregationFrame | Error) => void) | null = null

  constructor(socket: tls.TLSSocket, server: string) {
    const reader = new LineReader(AGGREGATION_MAX_LINE_BYTES)
    socket.on("data", (chunk: Buffer) => {
      const { lines, tooLong } = reader.push(chunk)
      if (tooLong) this.#put(new Error(`${server} sent a line longer than ${AGGREGATION_MAX_LINE_BYTES} bytes`))
      for (const line of lines) this.#put(decodeAggregationLine(line) ?? new Error(`${server} sent "${line.slice(0, 60)}", not an aggregation frame`))
    })
    socket.on("close", () => this.#put(new Error(`${server} closed the connection`)))
    socket.on("error", (cause) => this.#put(new Error(`${server}: ${cause.message}`)))
  }

  #put(item: AggregationFrame | Error): void {
    const waiting = this.#waiting
    this.#waiting = null
    if (waiting === null) this.#queue.push(item)
    else waiting(item)
  }

  /** The next frame; rejects with what went wrong instead, or when nothing comes within `timeoutMs`. */
  async next(timeoutMs: number): Promise<AggregationFrame> {
    const item = this.#queue.shift() ?? await new Promise<AggregationFrame | Error>((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting = null
        resolve(new Error(`no answer within ${timeoutMs} ms`))
      }, timeoutMs)
      this.#waiting = (frame) => {
        clearTimeout(timer)
        resolve(frame)
      }
    })
    if (item instanceof Error) throw item
    if (item.type === "error") throw new Error(`refused (${item.code}): ${item.reason}`)
    return item
  }
}

export class AggregationClient {
  readonly #options: AggregationClientOptions
  readonly #dialer: DeviceDialer
  readonly #timers = new Set<unknown>()
  #running = false
  /** Logs the servers stored from this analyzer (each counted once), by entry id. */
  readonly sent = new Map<number, number>()

  constructor(options: AggregationClientOptions) {
    this.#options = options
    this.#dialer = new DeviceDialer(options.context, { id: options.analyzer, serial: options.serial })
  }

  get #entries(): ReadonlyArray<LogForwardEntry> {
    return this.#options.entries.filter((entry) => entry.mode === "aggregation")
  }

  start(): void {
    if (this.#running) return
    this.#running = true
    for (const entry of this.#entries) this.#schedule(entry, 0)
  }

  stop(): void {
    this.#running = false
    for (const timer of this.#timers) this.#options.context.clock.clearTimeout(timer)
    this.#timers.clear()
  }

  #schedule(entry: LogForwardEntry, delayMs: number): void {
    const timer = this.#options.context.clock.setTimeout(() => {
      this.#timers.delete(timer)
      void this.#run(entry).then(() => {
        if (this.#running && entry.aggSchedule === "daily") this.#schedule(entry, entry.aggInterval)
      })
    }, delayMs)
    this.#timers.add(timer)
  }

  /** One aggregation run to the entry's server; one `log-aggregation` event. */
  async #run(entry: LogForwardEntry): Promise<void> {
    const { analyzer } = this.#options
    const { bus } = this.#options.context
    const outcome = await this.#send(entry).then(
      (counts) => ({ state: "sent" as const, count: counts.stored, reason: `${counts.stored} logs stored by ${entry.serverAddr}${counts.duplicates === 0 ? "" : `, ${counts.duplicates} it had already`}` }),
      (error: unknown) => ({ state: "failed" as const, count: 0, reason: `aggregation to ${entry.serverAddr} failed: ${errorMessage(error)}` })
    )
    if (!this.#running) return
    this.sent.set(entry.id, (this.sent.get(entry.id) ?? 0) + outcome.count)
    bus.publish({ type: "log-aggregation", device: analyzer, peer: entry.serverAddr, role: "client", ...outcome })
  }

  async #send(entry: LogForwardEntry): Promise<{ readonly stored: number; readonly duplicates: number }> {
    const { store, serial } = this.#options
    const timeoutMs = 10_000
    const socket = await this.#dialer.dial(
      { protocol: "log aggregation", server: entry.serverAddr, port: AGGREGATION_PORT, timeoutMs, tls: { encAlgorithm: "high", sslMinProtoVersion: "default" } },
      AbortSignal.timeout(timeoutMs)
    )
    const frames = new FrameReader(socket, entry.serverAddr)
    try {
      socket.write(encodeAggregationFrame({ type: "hello", serial, user: entry.aggUser, password: entry.aggPassword }))
      const ready = await frames.next(timeoutMs)
      if (ready.type !== "ready") throw new Error(`${entry.serverAddr} answered hello with ${ready.type}`)
      let stored = 0
      let duplicates = 0
      let scanned = 0
      const lastId = store.lastId()
      while (scanned < lastId && this.#running) {
        const to = Math.min(lastId, scanned + SCAN_WINDOW)
        const logs = store.logsToSync(scanned, to, ready.positions, AGGREGATION_BATCH, "visible")
        const last = logs.at(-1)
        scanned = last !== undefined && logs.length === AGGREGATION_BATCH ? last.id : to
        if (logs.length === 0) continue
        socket.write(encodeAggregationFrame({ type: "logs", records: logs.map(({ id: _id, origin, originId, ...log }) => ({ origin, originId, log })) }))
        const answer = await frames.next(timeoutMs)
        if (answer.type !== "stored") throw new Error(`${entry.serverAddr} answered a batch with ${answer.type}`)
        stored += answer.stored
        duplicates += answer.duplicates
      }
      socket.write(encodeAggregationFrame({ type: "done" }))
      await frames.next(timeoutMs)
      return { stored, duplicates }
    } finally {
      socket.destroy()
    }
  }
}
