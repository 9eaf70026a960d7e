/**
 * Keeps a file store's write-ahead log (WAL) short without slowing down `append()`.
 *
 * SQLite appends every commit to `<file>-wal`; a *checkpoint* copies those pages into the
 * database file and fsyncs it. Done inside the commit (SQLite's default), the copy halves the
 * append rate, so the writer turns automatic checkpoints off and this module runs them on a
 * worker thread with its own connection (`checkpointer-worker.ts`), in parallel with appends.
 *
 * One thing only the writer can do: restart the WAL from its beginning, which happens at the
 * writer's next transaction once every frame has been copied. Under a steady stream of appends
 * the worker never catches up exactly between two transactions. So while the writer is busy the
 * worker runs pass after pass (each copying what arrived during the previous one, so they get
 * shorter), and once the WAL is past `resetFrames` and a pass copied at most `tailFrames`, it
 * parks and raises `resetWanted`; the writer then runs one short checkpoint itself (the few
 * frames written during that last pass) before its next transaction, and the WAL restarts. Thread coordination is a small shared `Int32Array`.
 *
 * If the worker cannot run, `failed` turns true and the writer falls back to SQLite's own
 * automatic checkpoints: slower, never wrong.
 */
import { extname } from "node:path"
import { fileURLToPath } from "node:url"
import { Worker } from "node:worker_threads"

/** Slots of the shared control array. */
export const Slot = {
  /** Writer → worker: 1 = close your connection and exit. */
  Stop: 0,
  /** Worker → writer: 1 = connection closed, thread ending. */
  Done: 1,
  /** Worker → writer: 1 = please checkpoint once before your next transaction; writer sets 0. */
  ResetWanted: 2
} as const

/** What the worker gets as `workerData`. */
export interface CheckpointerData {
  readonly path: string
  readonly control: SharedArrayBuffer
  /** WAL size (in frames, one page each) past which the worker asks the writer to restart it. */
  readonly resetFrames: number
  /** A pass that copied at most this many frames counts as caught up (the writer is not far ahead). */
  readonly tailFrames: number
  /** Pause between passes when the previous pass found nothing new to copy. */
  readonly idleMs: number
  /** How long the worker waits for the writer to take a reset request before going on. */
  readonly resetWaitMs: number
}

/** How long `stop()` waits for the worker to close its connection. */
const STOP_WAIT_MS = 5_000

export class WalCheckpointer {
  readonly #control: Int32Array
  readonly #worker: Worker
  #failed = false
  #stopped = false

  private constructor(data: CheckpointerData) {
    this.#control = new Int32Array(data.control)
    // Same extension as this module: `.ts` when run from source, `.js` once built.
    const entry = new URL(`./checkpointer-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url)
    this.#worker = new Worker(entry, { workerData: data, name: "fazlab-wal" })
    this.#worker.unref()
    this.#worker.on("error", () => {
      this.#failed = true
    })
    this.#worker.on("exit", () => {
      if (!this.#stopped) this.#failed = true
    })
  }

  /** Starts the worker for the store file at `path` (a database already in WAL mode). */
  static start(path: string, pageSize: number): WalCheckpointer {
    return new WalCheckpointer({
      path,
      control: new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT),
      resetFrames: Math.ceil((64 * 1024 * 1024) / pageSize),
      tailFrames: Math.ceil((2 * 1024 * 1024) / pageSize),
      idleMs: 100,
      resetWaitMs: 1_000
    })
  }

  /** True once the worker died or could not start: the writer should checkpoint by itself. */
  get failed(): boolean {
    return this.#failed
  }

  /** True when the writer should run one checkpoint before its next transaction. */
  get resetWanted(): boolean {
    return Atomics.load(this.#control, Slot.ResetWanted) === 1
  }

  /** The writer ran its checkpoint: the worker may go on. */
  resetDone(): void {
    Atomics.store(this.#control, Slot.ResetWanted, 0)
    Atomics.notify(this.#control, Slot.ResetWanted)
  }

  /** Asks the worker to close its connection and waits (bounded) until it has. Idempotent. */
  stop(): void {
    if (this.#stopped) return
    this.#stopped = true
    Atomics.store(this.#control, Slot.Stop, 1)
    Atomics.notify(this.#control, Slot.Stop)
    this.resetDone()
    if (!this.#failed) Atomics.wait(this.#control, Slot.Done, 0, STOP_WAIT_MS)
    void this.#worker.terminate()
  }
}
