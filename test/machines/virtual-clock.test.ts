/**
 * The self-moving simulated clock: timers fire in due order with lab time exactly at their due
 * time; time never moves while loopback traffic is in flight (a ping-pong across a timer
 * boundary sees the reply at the lab time it was sent); an hour of timers passes in a moment;
 * after `close` nothing fires.
 */
import * as net from "node:net"
import { afterEach, describe, expect, it } from "vitest"
import { VirtualLabClock } from "../../src/machines/virtual-clock.ts"

let clock: VirtualLabClock | null = null
afterEach(() => {
  clock?.close()
  clock = null
})

const firedAt = (c: VirtualLabClock, ms: number): Promise<number> => new Promise((resolve) => c.setTimeout(() => resolve(c.now()), ms))

describe("VirtualLabClock", () => {
  it("fires timers in due order, at exactly their due lab time, and skips cleared ones", async () => {
    const c = (clock = new VirtualLabClock())
    const order: Array<[string, number]> = []
    c.setTimeout(() => order.push(["b", c.now()]), 2_000)
    c.setTimeout(() => order.push(["a", c.now()]), 1_000)
    c.setTimeout(() => order.push(["a2", c.now()]), 1_000)
    const cleared = c.setTimeout(() => order.push(["never", c.now()]), 1_500)
    c.clearTimeout(cleared)
    await firedAt(c, 3_000)
    expect(order).toEqual([["a", 1_000], ["a2", 1_000], ["b", 2_000]])
    expect(c.now()).toBe(3_000)
  })

  it("passes an hour of lab time in far less real time", async () => {
    const c = (clock = new VirtualLabClock())
    const began = performance.now()
    let ticks = 0
    const tick = () => {
      ticks++
      if (ticks < 720) c.setTimeout(tick, 5_000)
    }
    c.setTimeout(tick, 5_000)
    await firedAt(c, 3_600_001)
    expect(ticks).toBe(720)
    expect(performance.now() - began).toBeLessThan(30_000)
  })

  it("does not move while loopback traffic is in flight: a reply arrives at the lab time of its request", async () => {
    const c = (clock = new VirtualLabClock())
    // The server answers each line after a few event-loop turns of work, as a real device would.
    const server = net.createServer((socket) => {
      socket.on("data", (data) => {
        setImmediate(() => setImmediate(() => socket.write(`pong ${data.toString().trim()}\n`)))
      })
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    const { port } = server.address() as net.AddressInfo
    const socket = net.connect(port, "127.0.0.1")
    await new Promise<void>((resolve) => socket.once("connect", resolve))
    const replies: Array<[string, number]> = []
    socket.on("data", (data) => replies.push([data.toString().trim(), c.now()]))
    // Requests at lab times 1000, 1001 and 1002: each reply must come back before time moves on.
    for (const at of [1_000, 1_001, 1_002]) c.setTimeout(() => socket.write(`${at}\n`), at)
    await firedAt(c, 1_003)
    socket.destroy()
    server.close()
    expect(replies).toEqual([["pong 1000", 1_000], ["pong 1001", 1_001], ["pong 1002", 1_002]])
  })

  it("stops moving once closed", async () => {
    const c = new VirtualLabClock()
    let fired = false
    c.setTimeout(() => (fired = true), 10)
    c.close()
    // Give the clock every chance to move: a later clock on the same loop passes its own second.
    const other = (clock = new VirtualLabClock())
    await firedAt(other, 1_000)
    expect(fired).toBe(false)
    expect(c.now()).toBe(0)
  })
})
