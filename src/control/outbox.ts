/**
 * One control client's outgoing messages, bounded so a slow or stuck client never slows the lab.
 *
 * Messages go straight to the socket while its buffer (`bufferedAmount`: ws's queue plus the
 * socket's unsent bytes) stays under `highWaterBytes`; past that they wait here, and each
 * completed write lets the next ones through. When more than `maxQueuedMessages` wait, or
 * their text passes `maxQueuedChars` (a few large `logs` replies), the client has fallen
 * behind: the outbox stops queueing and calls `onOverflow` once, and the server tells the
 * client and closes it.
 */

export interface OutboxLimits {
  /** Messages that may wait for a slow client before it is dropped. */
  readonly maxQueuedMessages: number
  /** Characters of text that may wait for a slow client before it is dropped. */
  readonly maxQueuedChars: number
  /** Bytes the socket may hold unsent before messages wait in the outbox instead. */
  readonly highWaterBytes: number
}

/** The part of a `ws` WebSocket the outbox uses. */
export interface OutboxSocket {
  readonly bufferedAmount: number
  send(data: string, callback: (error?: Error) => void): void
}

/** How far behind a dropped client was. */
export interface Backlog {
  readonly messages: number
  readonly chars: number
}

export class Outbox {
  readonly #socket: OutboxSocket
  readonly #limits: OutboxLimits
  readonly #onOverflow: (backlog: Backlog) => void
  #waiting: Array<string> = []
  #head = 0
  #chars = 0
  #overflowed = false
  readonly #written = (error?: Error) => {
    if (error === undefined) this.#pump()
  }

  constructor(socket: OutboxSocket, limits: OutboxLimits, onOverflow: (backlog: Backlog) => void) {
    this.#socket = socket
    this.#limits = limits
    this.#onOverflow = onOverflow
  }

  /** Messages waiting for the socket. */
  get queued(): number {
    return this.#waiting.length - this.#head
  }

  push(message: string): void {
    if (this.#overflowed) return
    if (this.queued === 0 && this.#socket.bufferedAmount < this.#limits.highWaterBytes) {
      this.#socket.send(message, this.#written)
      return
    }
    this.#waiting.push(message)
    this.#chars += message.length
    if (this.queued > this.#limits.maxQueuedMessages || this.#chars > this.#limits.maxQueuedChars) {
      const backlog = { messages: this.queued, chars: this.#chars }
      this.#overflowed = true
      this.#waiting = []
      this.#head = 0
      this.#chars = 0
      this.#onOverflow(backlog)
    }
  }

  #pump(): void {
    while (this.queued > 0 && this.#socket.bufferedAmount < this.#limits.highWaterBytes) {
      const message = this.#waiting[this.#head] as string
      this.#head++
      this.#chars -= message.length
      this.#socket.send(message, this.#written)
    }
    if (this.queued === 0) {
      this.#waiting = []
      this.#head = 0
    } else if (this.#head > 1024 && this.#head * 2 > this.#waiting.length) {
      this.#waiting = this.#waiting.slice(this.#head)
      this.#head = 0
    }
  }
}
