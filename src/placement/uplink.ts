/**
 * A device node's link to its lab (`fazlab node`, docs/placement.md): the control channel, seen
 * from the node. The node's events go up in numbered batches that the lab confirms; the lab's
 * requests come down and are answered.
 *
 * The node never waits for the lab: its events wait in a bounded buffer (`MAX_BUFFERED`, oldest
 * let go first and counted) until the lab confirms them. When the connection is lost the node
 * keeps running and dials again (backoff from 100 ms to 2 s); on reconnect it says `node-hello`
 * again and sends what the lab has not confirmed, so the lab publishes each event once.
 * A patient uplink (a node in a container, which may start before its lab) dials the lab the
 * same way until it first answers, saying each new reason it could not once.
 */
import type { LabEvent } from "../events/events.ts"
import { type ControlAddress, type ControlClient, connectControl } from "../control/client.ts"
import type { CommandResult, ControlCommand, RequestMessage, SnapshotMessage } from "../control/protocol.ts"

/** Events a node keeps for a lab it cannot reach; older ones are let go (and counted). */
export const MAX_BUFFERED = 20_000

/** Events per `node-events` batch, at most, and their size: a message must stay under the channel's 64 KiB command limit. */
const BATCH = 500
const BATCH_CHARS = 40_000

const FIRST_RETRY_MS = 100
const LAST_RETRY_MS = 2000

export interface UplinkOptions {
  /** Where the lab is, asked again at every (re)connect: a lab started again has a new token. */
  readonly address: () => ControlAddress
  readonly device: string
  /** The device's status and HA role now, sent with every batch. */
  readonly status: () => { readonly status: string; readonly ha?: { readonly group: string; readonly role: string } }
  /** Runs one request of the lab and gives its result (or throws the sentence to answer with). */
  readonly serve: (request: RequestMessage["request"]) => Promise<unknown>
  /** The lab as it is at each (re)connect, and its events after: where the other devices listen. */
  readonly onSnapshot: (snapshot: SnapshotMessage) => void
  readonly onEvent: (event: LabEvent) => void
  /** The link's state changed (for the node's own output). */
  readonly onLink?: (state: "connected" | "lost", detail: string) => void
  /** Dial until the lab first answers, instead of failing with the first sentence. */
  readonly patient?: boolean
}

export class Uplink {
  readonly #options: UplinkOptions
  #buffer: Array<{ readonly seq: number; readonly event: LabEvent }> = []
  #next = 1
  #dropped = 0
  #client: ControlClient | null = null
  #sending = false
  #closed = false
  #retryMs = FIRST_RETRY_MS
  /** A batch is due even without events: the lab waits for the device's status (after hello, once the device is built). */
  #statusDue = false
  #timer: NodeJS.Timeout | null = null
  /** Resolves when the buffer is empty (every event confirmed), for a node that stops. */
  #drained: Array<() => void> = []

  constructor(options: UplinkOptions) {
    this.#options = options
  }

  /**
   * Starts dialing the lab; resolves once the first connection is up (or fails with the first
   * sentence; a patient uplink dials again until `signal` aborts).
   */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.#options.patient !== true) return this.#connect()
    let said = ""
    for (let wait = FIRST_RETRY_MS; ; wait = Math.min(LAST_RETRY_MS, wait * 2)) {
      try {
        return await this.#connect()
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error)
        if (reason !== said) this.#options.onLink?.("lost", `cannot reach the lab yet (${reason}); dialing again`)
        said = reason
      }
      signal?.throwIfAborted()
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait)
        signal?.addEventListener("abort", () => {
          clearTimeout(timer)
          resolve()
        }, { once: true })
      })
      signal?.throwIfAborted()
    }
  }

  /** An event of the node's device, for the lab. */
  push(event: LabEvent): void {
    if (event.type === "lab-started" || event.type === "lab-stopped") return
    this.#buffer.push({ seq: this.#next++, event })
    if (this.#buffer.length > MAX_BUFFERED) {
      this.#buffer.shift()
      this.#dropped++
    }
    queueMicrotask(() => void this.#flush())
  }

  /** Sends the device's status now, even with no event to carry it. */
  report(): void {
    this.#statusDue = true
    queueMicrotask(() => void this.#flush())
  }

  /** A command for the lab (`sent`); rejects when the lab cannot be reached right now. */
  async command<C extends ControlCommand>(command: C): Promise<CommandResult<C>> {
    const client = this.#client
    if (client === null) throw new Error(`the node of ${this.#options.device} has lost its lab for now; it reconnects on its own`)
    return client.command(command)
  }

  /** Waits (at most `timeoutMs`) until the lab confirmed every event, then closes the link. */
  async close(timeoutMs: number): Promise<void> {
    if (this.#buffer.length > 0 && this.#client !== null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs)
        this.#drained.push(() => {
          clearTimeout(timer)
          resolve()
        })
        void this.#flush()
      })
    }
    this.#closed = true
    if (this.#timer !== null) clearTimeout(this.#timer)
    await this.#client?.close()
  }

  async #connect(): Promise<void> {
    const { address, device } = this.#options
    const client = await connectControl(address(), { timeoutMs: 5000 })
    this.#options.onSnapshot(client.snapshot)
    client.onEvent(this.#options.onEvent)
    client.onRequest((message) => {
      this.#options.serve(message.request).then(
        (result) => client.answer(message.id, { ok: true, result: result ?? null }),
        (error: unknown) => client.answer(message.id, { ok: false, error: error instanceof Error ? error.message : String(error) })
      )
    })
    const hello = await client.command({ name: "node-hello", device, pid: process.pid })
    this.#confirm(hello.received)
    this.#client = client
    this.#retryMs = FIRST_RETRY_MS
    this.#options.onLink?.("connected", `${device} reports to lab ${hello.lab}`)
    this.#statusDue = true
    void client.closed.then((closed) => {
      if (this.#client === client) this.#client = null
      if (this.#closed) return
      this.#options.onLink?.("lost", `the control connection closed (${closed.code}); dialing again`)
      this.#retry()
    })
    void this.#flush()
  }

  #retry(): void {
    if (this.#closed || this.#timer !== null) return
    this.#timer = setTimeout(() => {
      this.#timer = null
      this.#connect().catch(() => {
        this.#retryMs = Math.min(LAST_RETRY_MS, this.#retryMs * 2)
        this.#retry()
      })
    }, this.#retryMs)
  }

  /** Lets go of the events the lab has (up to `received`). */
  #confirm(received: number): void {
    let i = 0
    while (i < this.#buffer.length && (this.#buffer[i]?.seq ?? Infinity) <= received) i++
    if (i > 0) this.#buffer = this.#buffer.slice(i)
    if (this.#buffer.length === 0) for (const done of this.#drained.splice(0)) done()
  }

  async #flush(): Promise<void> {
    const client = this.#client
    if (client === null || this.#sending || (this.#buffer.length === 0 && !this.#statusDue)) return
    this.#sending = true
    this.#statusDue = false
    let again = false
    try {
      let chars = 0
      let size = 0
      while (size < Math.min(BATCH, this.#buffer.length)) {
        chars += JSON.stringify(this.#buffer[size]?.event).length
        if (size > 0 && chars > BATCH_CHARS) break
        size++
      }
      const batch = this.#buffer.slice(0, size)
      const first = batch[0]?.seq ?? this.#next
      const { status, ha } = this.#options.status()
      const dropped = this.#dropped
      const result = await client.command({
        name: "node-events",
        device: this.#options.device,
        first,
        events: batch.map(({ event }) => event as unknown as Record<string, unknown>),
        status,
        ...(ha === undefined ? {} : { ha }),
        ...(dropped === 0 ? {} : { dropped })
      })
      this.#dropped -= dropped
      this.#confirm(result.received)
      // The lab took the batch and more waits (pushed meanwhile): go on at once; a refused batch
      // waits for the next event or reconnect.
      again = this.#buffer.length > 0 && result.received >= first + batch.length - 1
    } catch {
      // The connection is gone (the batch is sent again after the reconnect), or the lab refused it.
    } finally {
      this.#sending = false
    }
    if (again) void this.#flush()
  }
}
