/**
 * The analyzers' UDP/514 listeners, read on a worker thread.
 *
 * Node hands over one datagram per callback, and an analyzer's main thread also parses and
 * stores every log in SQLite: while a store transaction runs, nothing reads the socket and the
 * kernel drops what overflows its receive buffer. So the sockets live on a worker thread
 * (`udp-worker.ts`) that only receives, and posts the datagrams in batches (one transferred
 * buffer each, no copy on the way) to the main thread, which parses them and owns the store, the
 * counters and the bus: `onBatch` sees every datagram, in the order received. The receiving
 * thread is kept to the least work per datagram because its speed decides the loss: it neither
 * parses nor builds records (which would also cost a structured clone of 16 fields per record
 * on the way over).
 *
 * One such thread serves every analyzer of the process. It is started when the first analyzer is
 * created (`startUdpReceiver`), not at the first bind, as starting it costs 100-400 ms. A bind
 * that comes before the thread is ready either waits for it (`thread: "wait"`: an analyzer's own
 * start) or listens on the main thread as before (an HA primary taking the virtual IP, which must
 * not wait, `thread: "if-ready"`): such a listener stays on the main thread until it closes. A
 * lab on a simulated clock reads on the main thread only (`thread: "main"`), where the clock
 * sees each datagram arrive before it moves time. The thread holds the
 * process open only while it has a socket open or a bind waiting for it. Closing a listener's
 * scope asks the thread to close the socket and waits until its last batch went to `onBatch`, so
 * a clean stop stores everything received.
 *
 * If the thread ends while it holds sockets (an uncaught error, out of memory, `terminate()`), its
 * sockets are gone with it and each listener is bound again at once on the main thread, at the same
 * address and port, and says so through `onMoved`; one that cannot be bound again (the port was
 * taken meanwhile) says so through `onLost` and stays closed. What the thread had received but not
 * yet handed over is lost with it (UDP syslog is never acknowledged). The next bind starts a new thread.
 */
import type { RemoteInfo } from "node:dgram"
import { isIPv6 } from "node:net"
import { extname } from "node:path"
import { fileURLToPath } from "node:url"
import { Worker } from "node:worker_threads"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import type { PortKey } from "../../events/events.ts"
import { BindError, bindError } from "../../net/errors.ts"
import { listenUdp, type UdpListener } from "../../net/udp.ts"

/** Datagrams received on the thread, in the order received. */
export interface UdpBatch {
  /** The datagrams, one after the other. */
  readonly bytes: ArrayBuffer
  /** Where each datagram ends in `bytes`. */
  readonly ends: Uint32Array
  /** Senders ("address:port"): `peers[k]` sent the datagrams from index `peerStarts[k]` on. */
  readonly peers: ReadonlyArray<string>
  readonly peerStarts: ReadonlyArray<number>
  /** Datagrams received and dropped since the last batch: more than `MAX_BACKLOG_BYTES` waited for the main thread. */
  readonly shed: number
  /** Datagrams the kernel dropped since the last batch (the socket's receive buffer was full), as /proc/net/udp counts them. */
  readonly kernelDropped: number
}

/**
 * Most bytes of datagrams the receiver thread holds for the main thread (posted, not yet handed
 * to `onBatch`): 32 MiB, about 100,000 ~300-byte logs, a second of a 100,000/s stream. The store
 * may fall behind a burst by that much; beyond it datagrams are dropped and reported (`shed`).
 */
export const MAX_BACKLOG_BYTES = 32 * 1024 * 1024

/** What the receiver thread gets as `workerData`. */
export interface UdpReceiverData {
  /** Slot 0: bytes posted by the thread and not yet taken by the main thread. */
  readonly backlog: SharedArrayBuffer
}

/** Calls `each` with every datagram of a batch (a view on its bytes, no copy) and its sender. */
export const forEachDatagram = (batch: UdpBatch, each: (datagram: Buffer, peer: string) => void): void => {
  const { bytes, ends, peers, peerStarts } = batch
  let run = 0
  let start = 0
  for (let i = 0; i < ends.length; i++) {
    while (run + 1 < peerStarts.length && (peerStarts[run + 1] ?? 0) <= i) run++
    const end = ends[i] ?? start
    each(Buffer.from(bytes, start, end - start), peers[run] ?? "")
    start = end
  }
}

/** Main thread → worker: open a socket. */
export interface UdpBindRequest {
  readonly kind: "bind"
  readonly id: number
  readonly family: "udp4" | "udp6"
  readonly host: string
  readonly port: number
  readonly receiveBufferBytes: number
}

export type UdpReceiverRequest = UdpBindRequest | { readonly kind: "close"; readonly id: number }

/** Worker → main thread. */
export type UdpReceiverReport =
  | { readonly kind: "ready" }
  | { readonly kind: "bound"; readonly id: number; readonly address: string; readonly port: number; readonly receiveBufferBytes: number }
  | { readonly kind: "bind-failed"; readonly id: number; readonly code: string; readonly reason: string }
  | ({ readonly kind: "batch"; readonly id: number } & UdpBatch)
  | { readonly kind: "closed"; readonly id: number }

export interface SyslogUdpOptions {
  readonly device: string
  readonly port: PortKey
  readonly host: string
  readonly actualPort: number
  /** SO_RCVBUF in bytes; the kernel may cap it (net.core.rmem_max). */
  readonly receiveBufferBytes: number
  /**
   * Where the socket is read: `wait` on the receiver thread, waiting for it to be ready;
   * `if-ready` on it when it is ready, else on the main thread; `main` on the main thread.
   */
  readonly thread: "wait" | "if-ready" | "main"
  /** Datagrams received on the receiver thread. */
  readonly onBatch: (batch: UdpBatch) => void
  /** A datagram received on the main thread. */
  readonly onDatagram: (message: Buffer, peer: RemoteInfo) => void
  /**
   * The receiver thread ended while it held this socket, and the socket is bound again on the main
   * thread at the same address and port (`listener`; `onDatagram` receives from now on). `reason`
   * says so in a sentence.
   */
  readonly onMoved?: (listener: UdpListener, reason: string) => void
  /** As for `onMoved`, but the socket could not be bound again: the listener is closed; `error.reason` says why. */
  readonly onLost?: (error: BindError) => void
}

// Same extension as this module: `.ts` when run from source, `.js` once built.
const ENTRY = new URL(`./udp-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url)

/** A socket of the thread, from the bind request to its "closed"; after the thread ended, its socket on the main thread. */
interface Entry {
  readonly options: SyslogUdpOptions
  readonly bound: (report: UdpListener | Error) => void
  /** Where the thread bound it, once it said so. */
  listener: UdpListener | null
  closed: (() => void) | null
  /** Once the thread ended: the scope of the socket bound again on the main thread (null if that failed), when bound. */
  moved: Promise<Scope.Closeable | null> | null
}

/** Starts the process's UDP receiver thread now, if it is not running, so that the next bind is quick. */
export const startUdpReceiver = (): void => {
  UdpReceiver.shared()
}

/** Binds UDP/514 on the process's receiver thread when acquired; closing the scope delivers what is still in flight, then closes the socket. */
export const listenSyslogUdp = (options: SyslogUdpOptions): Effect.Effect<UdpListener, BindError, Scope.Scope> =>
  Effect.suspend(() => {
    const onMainThread = listenUdp({ ...options, onMessage: options.onDatagram })
    if (options.thread === "main") return onMainThread
    const receiver = UdpReceiver.shared()
    // A thread that could not start at all (it ended before it was ready) leaves UDP on the main thread.
    if (receiver.ready) return receiver.listen(options)
    if (options.thread === "if-ready") return onMainThread
    return Effect.promise(() => receiver.whenReady()).pipe(Effect.flatMap((ready) => (ready ? receiver.listen(options) : onMainThread)))
  })

/** The receiver thread and the sockets it holds for this thread's analyzers. */
class UdpReceiver {
  static #shared: UdpReceiver | null = null

  /** The process's receiver thread, started on first use; a new one if the last one ended. */
  static shared(): UdpReceiver {
    UdpReceiver.#shared ??= new UdpReceiver()
    return UdpReceiver.#shared
  }

  readonly #worker: Worker
  /** Bytes the thread posted that `onBatch` has not taken yet (the thread's bound, `MAX_BACKLOG_BYTES`). */
  readonly #backlog = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT))
  readonly #entries = new Map<number, Entry>()
  #nextId = 1
  #ready = false
  #ended = false
  /** The thread's uncaught error, for the sentence that says it ended. */
  #failure: string | null = null
  readonly #readyWaiters = new Set<(ready: boolean) => void>()

  private constructor() {
    const data: UdpReceiverData = { backlog: this.#backlog.buffer as SharedArrayBuffer }
    this.#worker = new Worker(ENTRY, { name: "fazlab-udp", workerData: data })
    this.#worker.unref()
    this.#worker.on("message", this.#onReport)
    this.#worker.on("error", (error: unknown) => {
      this.#failure = error instanceof Error ? error.message : String(error)
    })
    this.#worker.on("exit", this.#onExit)
  }

  /** A thread that ended fails what waits for it, and its sockets move to the main thread; the next analyzer start gets a new one. */
  readonly #onExit = (code: number): void => {
    this.#ended = true
    if (UdpReceiver.#shared === this) UdpReceiver.#shared = null
    for (const waiter of this.#readyWaiters) waiter(false)
    this.#readyWaiters.clear()
    const ended = `the UDP receiver thread ended (exit code ${code}${this.#failure === null ? "" : `: ${this.#failure}`})`
    for (const [id, entry] of this.#entries) {
      if (entry.closed !== null) {
        this.#entries.delete(id)
        entry.closed()
      } else entry.moved = this.#moveToMain(id, entry, ended)
    }
  }

  /**
   * Binds a socket of the ended thread again on the main thread, where it was bound. A bind the
   * thread had not answered yet is answered with the main thread's instead, as if the thread had not been ready.
   */
  async #moveToMain(id: number, entry: Entry, ended: string): Promise<Scope.Closeable | null> {
    const { options, listener } = entry
    const scope = Effect.runSync(Scope.make())
    const at = listener === null ? options : { ...options, host: listener.address, actualPort: listener.actualPort }
    const result = await Effect.runPromise(
      Effect.match(Scope.provide(scope)(listenUdp({ ...at, onMessage: options.onDatagram })), { onSuccess: (bound) => bound, onFailure: (error) => error })
    )
    if (!(result instanceof BindError)) {
      if (listener === null) entry.bound(result)
      else options.onMoved?.(result, `${ended}; ${options.port} is read on the main thread now`)
      return scope
    }
    if (listener === null) {
      this.#entries.delete(id)
      entry.bound(result)
    } else {
      const { device, port, address, actualPort, code } = result
      options.onLost?.(new BindError({ device, port, address, actualPort, code, reason: `${ended} and ${port} could not be bound again: ${result.reason}` }))
    }
    return null
  }

  readonly #onReport = (report: UdpReceiverReport): void => {
    if (report.kind === "ready") {
      this.#ready = true
      for (const waiter of this.#readyWaiters) waiter(true)
      this.#readyWaiters.clear()
      this.#holdOpen()
      return
    }
    if (report.kind === "batch") Atomics.sub(this.#backlog, 0, report.bytes.byteLength)
    const entry = this.#entries.get(report.id)
    if (entry === undefined) return
    switch (report.kind) {
      case "batch":
        entry.options.onBatch(report)
        return
      case "bound":
        entry.listener = { address: report.address, actualPort: report.port, receiveBufferBytes: report.receiveBufferBytes }
        entry.bound(entry.listener)
        return
      case "bind-failed":
        this.#forget(report.id)
        entry.bound(Object.assign(new Error(report.reason), { code: report.code }))
        return
      case "closed":
        this.#forget(report.id)
        entry.closed?.()
    }
  }

  /** The thread has loaded its modules and takes requests. */
  get ready(): boolean {
    return this.#ready
  }

  #forget(id: number): void {
    this.#entries.delete(id)
    this.#holdOpen()
  }

  /** The thread keeps the process open while it has sockets or binds are waiting for it (sockets moved to the main thread hold it themselves). */
  #holdOpen(): void {
    if (this.#ended) return
    if (this.#entries.size > 0 || this.#readyWaiters.size > 0) this.#worker.ref()
    else this.#worker.unref()
  }

  /** Resolves true once the thread takes requests, false if it ended before. */
  whenReady(): Promise<boolean> {
    if (this.#ready || this.#ended) return Promise.resolve(this.#ready && !this.#ended)
    const ready = new Promise<boolean>((resolve) => this.#readyWaiters.add(resolve))
    this.#holdOpen()
    return ready
  }

  #bind(options: SyslogUdpOptions): Promise<{ readonly id: number; readonly listener: UdpListener }> {
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      this.#entries.set(id, {
        options,
        bound: (result) => (result instanceof Error ? reject(result) : resolve({ id, listener: result })),
        listener: null,
        closed: null,
        moved: null
      })
      this.#holdOpen()
      const request: UdpBindRequest = {
        kind: "bind",
        id,
        family: isIPv6(options.host) ? "udp6" : "udp4",
        host: options.host,
        port: options.actualPort,
        receiveBufferBytes: options.receiveBufferBytes
      }
      this.#worker.postMessage(request)
    })
  }

  /** Closes the socket wherever it is now: on the thread (after its last batch), or on the main thread once the thread ended. */
  #close(id: number): Promise<void> {
    const entry = this.#entries.get(id)
    if (entry === undefined) return Promise.resolve()
    const moved = entry.moved
    if (moved !== null) {
      this.#entries.delete(id)
      return moved.then((scope) => (scope === null ? undefined : Effect.runPromise(Scope.close(scope, Exit.void))))
    }
    return new Promise((resolve) => {
      entry.closed = resolve
      this.#worker.postMessage({ kind: "close", id } satisfies UdpReceiverRequest)
    })
  }

  listen(options: SyslogUdpOptions): Effect.Effect<UdpListener, BindError, Scope.Scope> {
    return Effect.suspend(() =>
      // A thread that ended since it was asked for: the socket goes on the main thread, as if it had never been ready.
      this.#ended
        ? listenUdp({ ...options, onMessage: options.onDatagram })
        : Effect.acquireRelease(
          Effect.tryPromise({ try: () => this.#bind(options), catch: (cause) => bindError(options, cause) }),
          ({ id }) => Effect.promise(() => this.#close(id))
        ).pipe(Effect.map(({ listener }) => listener))
    )
  }
}
