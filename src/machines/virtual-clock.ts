/**
 * Simulated lab time that moves by itself (`clock: simulated`, `fazlab run --clock simulated`).
 *
 * Whenever the lab is idle, the clock jumps to the next timer that is due and fires it. The
 * sockets stay real; only waiting is skipped. A 30-minute HA story with FortiOS's own timers
 * then runs in seconds, and the same scenario gives the same timeline every run: every lab time
 * is decided by the timers, not by how fast the machine happens to be that day.
 *
 * Idle means, observed with node:async_hooks: no callback of anyone but this clock ran for a whole
 * turn of the event loop (a timer wait, then a poll for I/O, then a check), and nothing is
 * pending that will call back soon: no socket connect or write, file system, DNS or crypto
 * request, no immediate, no real timer of at most SHORT_REAL_TIMER_MS (the store writer's 5 ms
 * flush). On loopback a written byte is readable at once, so a quiet turn means nothing is in
 * flight. Should a request never report its end, the clock moves on after STALL_MS of silence.
 */
import { createHook } from "node:async_hooks"
import type { LabClock } from "./clock.ts"

/** Real time between two looks when no timer is waiting at all (the lab waits for the outside). */
const NOTHING_DUE_MS = 20
/**
 * Real timers at most this long are work about to happen (batch flushes, smtp-server's 100 ms
 * wait for early talkers before its greeting), not waiting.
 */
const SHORT_REAL_TIMER_MS = 100
/** Silence with something still pending for this long: the clock moves on anyway. */
const STALL_MS = 1000
/** Async resources whose callback is work in flight: requests of every kind, and immediates. */
const IN_FLIGHT = /^FSREQ|REQUEST$|REQWRAP$|CONNECTWRAP$|WRITEWRAP$|SHUTDOWNWRAP$|SENDWRAP$|QUERYWRAP$|^Immediate$/u

interface Timer {
  readonly due: number
  readonly seq: number
  readonly callback: () => void
}

/** A binary min-heap of timers ordered by due time, then by the order they were set. */
class TimerHeap {
  readonly #items: Timer[] = []

  get size(): number {
    return this.#items.length
  }
  peek(): Timer | undefined {
    return this.#items[0]
  }
  push(timer: Timer): void {
    const items = this.#items
    items.push(timer)
    for (let i = items.length - 1; i > 0;) {
      const parent = (i - 1) >> 1
      if (!before(items[i] as Timer, items[parent] as Timer)) break
      ;[items[i], items[parent]] = [items[parent] as Timer, items[i] as Timer]
      i = parent
    }
  }
  pop(): Timer | undefined {
    const items = this.#items
    const top = items[0]
    const last = items.pop()
    if (top === undefined || last === undefined || items.length === 0) return top
    items[0] = last
    for (let i = 0;;) {
      const left = 2 * i + 1
      const right = left + 1
      let smallest = i
      if (left < items.length && before(items[left] as Timer, items[smallest] as Timer)) smallest = left
      if (right < items.length && before(items[right] as Timer, items[smallest] as Timer)) smallest = right
      if (smallest === i) break
      ;[items[i], items[smallest]] = [items[smallest] as Timer, items[i] as Timer]
      i = smallest
    }
    return top
  }
}

const before = (a: Timer, b: Timer): boolean => a.due < b.due || (a.due === b.due && a.seq < b.seq)

export class VirtualLabClock implements LabClock {
  readonly simulated = true
  #now = 0
  #seq = 0
  readonly #timers = new TimerHeap()
  /** Sequence numbers of timers cleared before they fired. */
  readonly #cleared = new Set<number>()
  /** Callbacks run by anyone but this clock since it started. */
  #activity = 0
  /** Async ids of this clock's own real timers and immediates. */
  readonly #own = new Set<number>()
  #creatingOwn = false
  /** Async ids of work in flight (see IN_FLIGHT and SHORT_REAL_TIMER_MS). */
  readonly #inFlight = new Set<number>()
  #quietSince = performance.now()
  #closed = false
  readonly #hook = createHook({
    init: (asyncId, type, _trigger, resource) => {
      if (this.#creatingOwn) this.#own.add(asyncId)
      else if (IN_FLIGHT.test(type) || (type === "Timeout" && isShortOneShot(resource))) this.#inFlight.add(asyncId)
    },
    before: (asyncId) => {
      if (!this.#own.has(asyncId)) this.#activity++
    },
    destroy: (asyncId) => {
      this.#own.delete(asyncId)
      this.#inFlight.delete(asyncId)
    }
  })

  constructor() {
    this.#hook.enable()
    this.#look()
  }

  now(): number {
    return this.#now
  }
  setTimeout(callback: () => void, ms: number): unknown {
    const seq = this.#seq++
    this.#timers.push({ due: this.#now + Math.max(0, ms), seq, callback })
    return seq
  }
  clearTimeout(handle: unknown): void {
    if (typeof handle === "number") this.#cleared.add(handle)
  }

  /** Stops moving time and stops observing the event loop. Timers still set never fire. */
  close(): void {
    this.#closed = true
    // Not here: close() often runs in a promise reaction, whose async id the hook's promise
    // tracking pushed and would pop after it. Turning the hook off in between leaves Node's async
    // id stack unbalanced, and Node aborts at its next native callback ("Assertion failed:
    // (env_->execution_async_id()) == (0)", as nodejs/node-addon-api#979). An immediate runs
    // outside any promise.
    setImmediate(() => this.#hook.disable()).unref()
  }

  /** Schedules the next look at the event loop: a real timer, then an immediate after the I/O poll. */
  #look(): void {
    if (this.#closed) return
    const mark = this.#activity
    if (this.#timers.size > 0) this.#asOwn(() => setImmediate(() => this.#settle(mark)))
    else this.#asOwn(() => setTimeout(() => this.#asOwn(() => setImmediate(() => this.#settle(mark))), NOTHING_DUE_MS).unref())
  }

  #settle(mark: number): void {
    if (this.#closed) return
    const now = performance.now()
    if (this.#activity !== mark) this.#quietSince = now
    const quiet = this.#activity === mark && (this.#inFlight.size === 0 || now - this.#quietSince >= STALL_MS)
    if (quiet) this.#fireNext()
    this.#look()
  }

  /** Moves lab time to the earliest timer and fires every timer due by then that was set before this moment. */
  #fireNext(): void {
    this.#dropCleared()
    const next = this.#timers.peek()
    if (next === undefined) return
    this.#now = Math.max(this.#now, next.due)
    const setBefore = this.#seq
    for (let timer = this.#timers.peek(); timer !== undefined && timer.due <= this.#now && timer.seq < setBefore; timer = this.#timers.peek()) {
      this.#timers.pop()
      if (this.#cleared.delete(timer.seq)) continue
      timer.callback()
    }
    this.#quietSince = performance.now()
  }

  #dropCleared(): void {
    for (let timer = this.#timers.peek(); timer !== undefined && this.#cleared.delete(timer.seq); timer = this.#timers.peek()) this.#timers.pop()
  }

  #asOwn(create: () => void): void {
    this.#creatingOwn = true
    try {
      create()
    } finally {
      this.#creatingOwn = false
    }
  }
}

/** A one-shot real timer short enough to be work about to happen rather than waiting. */
const isShortOneShot = (resource: object): boolean => {
  const timer = resource as { readonly _idleTimeout?: unknown; readonly _repeat?: unknown }
  return typeof timer._idleTimeout === "number" && timer._idleTimeout <= SHORT_REAL_TIMER_MS && (timer._repeat === null || timer._repeat === undefined)
}
