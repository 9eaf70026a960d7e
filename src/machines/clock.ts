/**
 * The lab clock: real time or simulated time behind one small interface.
 *
 * It has the shape xstate expects of a clock (`setTimeout` / `clearTimeout`), plus `now()`, so
 * machines, senders and the scenario timeline all run on the same time. Tests and
 * `--clock simulated` use `SimulatedLabClock`, which only moves when told to.
 */
import { SimulatedClock } from "xstate"

export interface LabClock {
  /** Milliseconds since the lab started. */
  now(): number
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export class RealLabClock implements LabClock {
  readonly #origin = performance.now()
  now(): number {
    return performance.now() - this.#origin
  }
  setTimeout(callback: () => void, ms: number): unknown {
    return setTimeout(callback, ms)
  }
  clearTimeout(handle: unknown): void {
    clearTimeout(handle as NodeJS.Timeout)
  }
}

/** A clock that moves only when `advance` is called; timers fire in due order. */
export class SimulatedLabClock implements LabClock {
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
