/**
 * The lab clock: real time, sped-up real time, or simulated time behind one small interface.
 *
 * It has the shape xstate expects of a clock (`setTimeout` / `clearTimeout`), plus `now()`, so
 * machines, senders and the scenario timeline all run on the same time. `RealLabClock` with a
 * speed above 1 (`fazlab run --speed N`) lets FortiOS's own timers (hb-interval 5 s, keepalives,
 * retries) play out N times faster than the wall clock, on real sockets. `VirtualLabClock`
 * (virtual-clock.ts) moves by itself whenever the lab is idle: scenarios with `clock: simulated`.
 * Unit tests use `SimulatedLabClock`, which only moves when told to.
 */
import { SimulatedClock } from "xstate"

export interface LabClock {
  /**
   * True when lab time does not follow the wall clock. Work must then stay on the main thread,
   * where a self-moving clock sees it in flight (the analyzer keeps UDP/514 off its worker).
   */
  readonly simulated: boolean
  /** Milliseconds since the lab started. */
  now(): number
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export class RealLabClock implements LabClock {
  readonly simulated = false
  readonly #origin = performance.now()
  readonly #speed: number

  /** @param speed lab milliseconds per wall-clock millisecond (1: real time) */
  constructor(speed = 1) {
    this.#speed = speed
  }

  now(): number {
    return (performance.now() - this.#origin) * this.#speed
  }
  setTimeout(callback: () => void, ms: number): unknown {
    return setTimeout(callback, ms / this.#speed)
  }
  clearTimeout(handle: unknown): void {
    clearTimeout(handle as NodeJS.Timeout)
  }
}

/**
 * A clock that tells, inside a timer's callback, how late that timer fired. Lateness means this
 * process was busy (the event loop stalled): what arrived on its sockets in time may still be
 * unread, so a watchdog should let it be read before it decides that a peer went silent. The
 * `VirtualLabClock` fires every timer at its due time (lateness 0); a `SimulatedLabClock` moved
 * past a due time in one step fires late, as a stall would.
 */
export class LatenessClock implements LabClock {
  readonly #inner: LabClock
  #lateness = 0

  constructor(inner: LabClock) {
    this.#inner = inner
  }

  get simulated(): boolean {
    return this.#inner.simulated
  }
  now(): number {
    return this.#inner.now()
  }
  setTimeout(callback: () => void, ms: number): unknown {
    const due = this.#inner.now() + ms
    return this.#inner.setTimeout(() => {
      this.#lateness = Math.max(0, this.#inner.now() - due)
      try {
        callback()
      } finally {
        this.#lateness = 0
      }
    }, ms)
  }
  clearTimeout(handle: unknown): void {
    this.#inner.clearTimeout(handle)
  }
  /** Lab milliseconds between when the timer whose callback runs now was due and when it fired; 0 outside a callback. */
  lateness(): number {
    return this.#lateness
  }
}

/** A clock that moves only when `advance` is called; timers fire in due order. */
export class SimulatedLabClock implements LabClock {
  readonly simulated = true
  readonly #clock = new SimulatedClock()
  now(): number {
    return this.#clock.now()
  }
  setTimeout(callback: () => void, ms: number): unknown {
    return this.#clock.setTimeout(callback, ms)
  }
  clearTimeout(handle: unknown): void {
    this.#clock.clearTimeout(handle as number)
  }
  advance(ms: number): void {
    this.#clock.increment(ms)
  }
}
