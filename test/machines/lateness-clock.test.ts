/**
 * LatenessClock: inside a timer's callback it tells how late the timer fired on the clock it
 * wraps; outside a callback, and for a timer on time, 0. Cancelling goes to the wrapped clock.
 */
import { describe, expect, it } from "vitest"
import { type LabClock, LatenessClock, SimulatedLabClock } from "../../src/machines/clock.ts"

/** A clock whose time and timers the test moves by hand: `fire` runs a timer whenever it likes. */
class HandClock implements LabClock {
  readonly simulated = false
  time = 0
  readonly timers = new Map<number, () => void>()
  #next = 1
  now(): number {
    return this.time
  }
  setTimeout(callback: () => void, _ms: number): unknown {
    const id = this.#next++
    this.timers.set(id, callback)
    return id
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number)
  }
  fire(id: number): void {
    const callback = this.timers.get(id)
    this.timers.delete(id)
    callback?.()
  }
}

describe("LatenessClock", () => {
  it("tells a callback how late its timer fired, and 0 outside callbacks", () => {
    const hand = new HandClock()
    const clock = new LatenessClock(hand)
    const seen: number[] = []
    clock.setTimeout(() => seen.push(clock.lateness()), 200) // due at 200
    clock.setTimeout(() => seen.push(clock.lateness()), 600) // due at 600
    hand.time = 200
    hand.fire(1)
    hand.time = 1500 // the process stalled
    hand.fire(2)
    expect(seen).toEqual([0, 900])
    expect(clock.lateness()).toBe(0)
  })

  it("measures on the wrapped clock: a simulated clock moved to the due time is on time, one moved past it late; cancels there too", () => {
    const simulated = new SimulatedLabClock()
    const clock = new LatenessClock(simulated)
    const seen: number[] = []
    clock.setTimeout(() => seen.push(clock.lateness()), 1000)
    const cancelled = clock.setTimeout(() => seen.push(-1), 500)
    clock.clearTimeout(cancelled)
    simulated.advance(1000)
    clock.setTimeout(() => seen.push(clock.lateness()), 1000) // due at 2000
    simulated.advance(3000) // in one step: fires at 4000
    expect(seen).toEqual([0, 2000])
    expect(clock.simulated).toBe(true)
  })
})
