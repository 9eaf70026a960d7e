/**
 * An analyzer's store thread: parses syslog frames and appends them to the store file on a worker
 * thread (`store-worker.ts`) with its own SQLite connection, so that the main thread, which reads
 * the sockets, only frames and copies bytes.
 *
 * Measured before it (docs/performance.md, "Where the time goes"): of the main thread's work per
 * syslog message, the SQLite insert and commit were ~55% and the parse ~40%; with both on the
 * main thread it could not read TCP faster than ~5.5 µs per log, while rsyslog on the same two
 * cores stored more than twice as many. Here the main thread hands over batches (one buffer of
 * frames, transferred, no copy on the way) and the thread answers each with what it stored.
 *
 * Guarantees, as for the main-thread writer it replaces (`store-writer.ts` uses it for file
 * stores on the real clock):
 * - Order: batches are stored and answered in the order posted; the answers are handled in that
 *   order, so `logs-stored` and HA forwarding see ids rising as before.
 * - Bounded lag: at most `MAX_IN_FLIGHT` batches are posted and not yet answered; a post beyond
 *   that waits (blocking, like a store transaction on the main thread did) for the oldest, which
 *   holds TCP senders back through the socket.
 * - `drain()` waits, without the event loop, until every posted batch is answered and handles the
 *   answers: what `StoreWriter.flush()` promises (stored when it returns) still holds for
 *   expectations, the HTTPS intake and a clean stop.
 * - A thread that ends (it says why first when it can: a store it cannot open, an error it did not
 *   expect; or it is found gone, or does not answer within `WAIT_MS`) fails what it held: each
 *   such batch is reported as not stored (`store-failed`), and the writer goes back to storing on
 *   the main thread. Syslog is never acknowledged, so nothing acknowledged is lost.
 */
import { extname } from "node:path"
import { fileURLToPath } from "node:url"
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from "node:worker_threads"
import type { MalformedReason, PortKey } from "../../events/events.ts"
import type { KvDamageReport } from "../../protocols/fortios/kv.ts"
import type { LogRecordInput } from "../../store/log-record.ts"

/** Slots of the shared control array. */
export const StoreSlot = {
  /** Thread → main: answers posted so far. */
  Done: 0,
  /** Thread → main: 1 once its store is closed. */
  Closed: 1,
  /** Thread → main: 1 once it gave up (its last answer says why) and is ending. */
  Ended: 2
} as const

/** What the thread gets as `workerData`. */
export interface StoreThreadData {
  readonly path: string
  /** Its end of the channel (requests in, answers out). */
  readonly port: MessagePort
  readonly control: SharedArrayBuffer
  /** Datagrams over this many bytes are rejected (`max-frame-bytes`). */
  readonly maxFrameBytes: number
  /** Send the stored records back with each answer (an HA member forwards them). */
  readonly returnRecords: boolean
}

/** A frame the thread could not store, and why. */
export interface Rejected {
  readonly port: PortKey
  readonly peer: string
  readonly reason: MalformedReason
  readonly detail: string
}

/** A FortiOS log stored with only its well-formed fields (cut or damaged), for the intake to count. */
export interface PartialLog {
  readonly port: PortKey
  readonly peer: string
  readonly damage: KvDamageReport
}

/** Frames, one after the other in `bytes`; `transports[i]` 0 for TCP, 1 for UDP; `peers[k]` sent the frames from `peerStarts[k]` on. */
export interface FrameBatch {
  readonly bytes: ArrayBuffer
  readonly ends: Uint32Array<ArrayBuffer>
  readonly transports: Uint8Array<ArrayBuffer>
  readonly peers: ReadonlyArray<string>
  readonly peerStarts: ReadonlyArray<number>
}

export type StoreThreadRequest = ({ readonly kind: "frames" } & FrameBatch) | { readonly kind: "close" }

export type StoreThreadReport =
  | {
    readonly kind: "stored"
    /** Id of the first stored log (the others follow one by one); 0 when none was stored. */
    readonly firstId: number
    /** Frames parsed into records and stored. */
    readonly accepted: number
    readonly perDevice: ReadonlyArray<readonly [string, number]>
    readonly rejected: ReadonlyArray<Rejected>
    /** The stored logs that were cut or damaged. */
    readonly partial: ReadonlyArray<PartialLog>
    /** The stored records, when asked for (`returnRecords`). */
    readonly records: ReadonlyArray<LogRecordInput> | null
  }
  | { readonly kind: "failed"; readonly accepted: number; readonly reason: string; readonly rejected: ReadonlyArray<Rejected> }
  /** The thread cannot go on (it could not open the store, or an error it did not expect): it ends after this. */
  | { readonly kind: "ended"; readonly reason: string }

/** The answer to one batch. */
export type BatchReport = Exclude<StoreThreadReport, { readonly kind: "ended" }>

/** Batches posted and not answered yet, at most. */
export const MAX_IN_FLIGHT = 4
/** How long a wait for the thread may take before what it holds counts as lost. */
const WAIT_MS = 15_000
/** How long closing waits for the thread to close its store. */
const CLOSE_WAIT_MS = 5_000

// Same extension as this module: `.ts` when run from source, `.js` once built.
const ENTRY = new URL(`./store-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url)

export class StoreThread {
  readonly #worker: Worker
  readonly #port: MessagePort
  readonly #control: Int32Array
  readonly #onReport: (report: BatchReport) => void
  /** Frames in each posted batch not answered yet, oldest first. */
  readonly #inFlight: number[] = []
  #ended: string | null = null

  constructor(options: {
    readonly path: string
    readonly maxFrameBytes: number
    readonly returnRecords: boolean
    /** Each answer, in the order the batches were posted; a lost batch is answered "failed". */
    readonly onReport: (report: BatchReport) => void
  }) {
    const channel = new MessageChannel()
    const control = new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT)
    const data: StoreThreadData = { path: options.path, port: channel.port2, control, maxFrameBytes: options.maxFrameBytes, returnRecords: options.returnRecords }
    this.#control = new Int32Array(control)
    this.#onReport = options.onReport
    this.#port = channel.port1
    this.#port.on("message", (report: StoreThreadReport) => this.#handle(report))
    this.#port.unref()
    this.#worker = new Worker(ENTRY, { workerData: data, transferList: [channel.port2], resourceLimits: { maxYoungGenerationSizeMb: 16 }, name: "fazlab-store" })
    this.#worker.unref()
    let failure: string | null = null
    this.#worker.on("error", (error: unknown) => {
      failure = error instanceof Error ? error.message : String(error)
    })
    this.#worker.on("exit", (code) => this.#end(`the store thread ended (exit code ${code}${failure === null ? "" : `: ${failure}`})`))
  }

  /** False once the thread ended or stopped answering: store on the main thread from then on. */
  get alive(): boolean {
    return this.#ended === null
  }

  /** Hands a batch over (its buffers are transferred); waits first while `MAX_IN_FLIGHT` are unanswered. */
  post(batch: FrameBatch): void {
    if (this.#inFlight.length >= MAX_IN_FLIGHT) this.#waitUntil(MAX_IN_FLIGHT - 1)
    if (this.#ended !== null) {
      this.#onReport({ kind: "failed", accepted: batch.ends.length, reason: this.#ended, rejected: [] })
      return
    }
    // Counted before the transfer detaches the arrays.
    const frames = batch.ends.length
    const request: StoreThreadRequest = { kind: "frames", ...batch }
    this.#port.postMessage(request, [batch.bytes, batch.ends.buffer, batch.transports.buffer])
    this.#inFlight.push(frames)
  }

  /** Waits until every posted batch is answered, handling the answers. */
  drain(): void {
    this.#waitUntil(0)
  }

  /** Drains, closes the thread's store and ends the thread. */
  close(): void {
    this.drain()
    if (this.#ended !== null) return
    this.#port.postMessage({ kind: "close" } satisfies StoreThreadRequest)
    Atomics.wait(this.#control, StoreSlot.Closed, 0, CLOSE_WAIT_MS)
    this.#ended = "the store thread was closed"
    this.#port.close()
    void this.#worker.terminate()
  }

  /** Blocks (no event loop) until at most `left` batches are unanswered, or the thread is given up on. */
  #waitUntil(left: number): void {
    const deadline = performance.now() + WAIT_MS
    while (this.#inFlight.length > left && this.#ended === null) {
      const received = receiveMessageOnPort(this.#port)
      if (received !== undefined) {
        this.#handle(received.message as StoreThreadReport)
        continue
      }
      if (performance.now() > deadline) {
        this.#end(`the store thread did not answer within ${WAIT_MS / 1000} s`)
        void this.#worker.terminate()
        return
      }
      if (Atomics.load(this.#control, StoreSlot.Ended) === 1) {
        // Its "ended" answer came before the flag: whatever is left is not answered.
        this.#end("the store thread ended")
        return
      }
      // The thread posts its answer, then counts it: a count that moves means an answer is queued.
      Atomics.wait(this.#control, StoreSlot.Done, Atomics.load(this.#control, StoreSlot.Done), 50)
    }
  }

  #handle(report: StoreThreadReport): void {
    if (report.kind === "ended") {
      this.#end(`the store thread ended: ${report.reason}`)
      return
    }
    // An answer after the thread was given up on: its batch was reported lost already.
    if (this.#inFlight.length === 0) return
    this.#inFlight.shift()
    this.#onReport(report)
  }

  /** The thread is gone: what it held is reported lost, once. */
  #end(reason: string): void {
    if (this.#ended !== null) return
    this.#ended = reason
    for (const frames of this.#inFlight.splice(0)) this.#onReport({ kind: "failed", accepted: frames, reason, rejected: [] })
  }
}
