/**
 * A client that stops reading never slows the lab: while the lab publishes events as fast as
 * it can, the stuck client's messages pile up only to the named limit (10,000 by default),
 * then it gets `dropped` (after what it already had) and is closed; a client that keeps
 * reading gets every event and stays connected. The same holds for stored logs: a client that
 * asks for logs and does not read the answers is dropped once their text passes the limit,
 * while the lab keeps storing and a reading follower gets every log.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { connectControl, followLogs, mayHaveNewLogs } from "../../src/control/client.ts"
import { CloseCode, DEFAULT_CONTROL_LIMITS } from "../../src/control/server.ts"
import type { EventOf } from "../../src/events/events.ts"
import { sharedLab, waitForStored } from "../support/lab.ts"
import { labTarget, rawClient, type Served, serve, turn } from "./support.ts"

const yaml = `
name: slow-client
devices:
  faz-1:
    kind: fortianalyzer
`

/** Events published between two turns of the event loop. */
const CHUNK = 1000
/** Far more than the kernel's socket buffers, the high-water mark and the queue limit hold. */
const MAX_EVENTS = 2_000_000

describe("a client that stops reading", () => {
  let served: Served

  const started = sharedLab(yaml)
  beforeAll(async () => {
    served = await serve(labTarget(started().lab, []))
  })

  afterAll(async () => {
    await served.close()
  })

  it("is dropped with the reason after 10,000 queued events, and a reading client is not", async () => {
    expect(DEFAULT_CONTROL_LIMITS.maxQueuedMessages).toBe(10_000)
    const stuck = await rawClient(served.server.url, served.server.token)
    await stuck.next((message) => message["type"] === "snapshot")
    stuck.socket.pause()

    const reader = await connectControl(served.server)
    let received = 0
    let lastTotal = 0
    reader.onEvent((event) => {
      if (event.type !== "logs-sent" || event.device !== "flood") return
      expect(event.total).toBe(lastTotal + 1)
      lastTotal = event.total
      received++
    })
    /** Resolves once the reading client has every event published so far. */
    const caughtUp = async (published: number) => {
      while (received < published) await turn()
    }

    let published = 0
    while (served.server.stats().dropped === 0) {
      if (published >= MAX_EVENTS) throw new Error(`the stuck client was not dropped after ${published} events`)
      for (let i = 0; i < CHUNK; i++) {
        published++
        started().lab.bus.publish({ type: "logs-sent", device: "flood", to: "faz-1", count: 1, total: published })
      }
      await caughtUp(published)
    }
    expect(served.server.stats()).toEqual({ clients: 1, dropped: 1 })

    // Once it reads again it finds, after the events it had, why it was dropped; then the close.
    stuck.socket.resume()
    const closed = await stuck.closed
    expect(closed).toEqual({ code: CloseCode.FellBehind, reason: "fell behind" })
    const last = stuck.messages.at(-1)
    expect(last).toEqual({ v: 1, type: "dropped", reason: "fell behind: 10001 events queued" })
    const totals = stuck.messages.slice(1, -1).map((message) => (message["event"] as EventOf<"logs-sent">).total)
    expect(totals.length).toBeGreaterThan(0)
    expect(totals.length).toBeLessThan(published)
    expect(totals).toEqual(totals.map((_, index) => index + 1))

    // The reader kept everything and still works.
    await caughtUp(published)
    expect(received).toBe(published)
    expect(await reader.command({ name: "stop", device: "faz-1" })).toEqual({ device: "faz-1", status: "stopped" })
    await reader.close()
  })

  it("is dropped sooner with a smaller configured limit", async () => {
    const small = await serve(labTarget(started().lab, []), { dataDir: null, limits: { maxQueuedMessages: 50, highWaterBytes: 4096 } })
    try {
      const stuck = await rawClient(small.server.url, small.server.token)
      await stuck.next((message) => message["type"] === "snapshot")
      stuck.socket.pause()
      let published = 0
      while (small.server.stats().dropped === 0) {
        if (published >= MAX_EVENTS) throw new Error(`the stuck client was not dropped after ${published} events`)
        for (let i = 0; i < CHUNK; i++) started().lab.bus.publish({ type: "logs-sent", device: "flood", to: "faz-1", count: 1, total: ++published })
        await turn()
      }
      stuck.socket.resume()
      await stuck.closed
      expect(stuck.messages.at(-1)).toEqual({ v: 1, type: "dropped", reason: "fell behind: 51 events queued" })
    } finally {
      await small.close()
    }
  })

})

describe("a client that asks for logs and stops reading", () => {
  let served: Served

  const started = sharedLab(`
name: slow-logs
devices:
  faz-1: { kind: fortianalyzer }
  fgt-1: { kind: fortigate, syslog: { server: faz-1, mode: udp, rate: 1000/s } }
`)
  beforeAll(async () => {
    served = await serve(started().lab, { dataDir: null, limits: { highWaterBytes: 4096, maxQueuedChars: 300_000 } })
    await waitForStored(started(), "fgt-1", 1500)
  })

  afterAll(() => served.close())

  it("is dropped when its unread answers pass maxQueuedChars; the lab and a reading follower go on", async () => {
    const reader = await connectControl(served.server)
    const ids: number[] = []
    let answered = () => undefined as void
    const follower = followLogs(reader, {
      query: { limit: 1 },
      pageLimit: 1000,
      latest: false,
      onLogs: (logs) => {
        ids.push(...logs.map((log) => log.id))
        answered()
      },
      onRefused: (reason) => {
        throw new Error(reason)
      }
    })
    const stopPoking = reader.onEvent((event) => {
      if (mayHaveNewLogs(event)) follower.poke()
    })

    const stuck = await rawClient(served.server.url, served.server.token)
    await stuck.next((message) => message["type"] === "snapshot")
    stuck.socket.pause()
    let asked = 0
    while (served.server.stats().dropped === 0) {
      if (asked >= 1000) throw new Error(`the stuck client was not dropped after ${asked} logs queries`)
      stuck.send({ v: 1, type: "command", id: ++asked, command: { name: "logs", limit: 1000 } })
      await turn()
    }
    const storedWhenDropped = started().events.filter((e) => e.type === "logs-stored").length

    stuck.socket.resume()
    expect(await stuck.closed).toEqual({ code: CloseCode.FellBehind, reason: "fell behind" })
    expect(stuck.messages.at(-1)).toMatchObject({ type: "dropped", reason: expect.stringMatching(/^fell behind: \d+ characters queued in \d+ messages$/) })

    // The lab kept storing, and the follower has every log, once, in order, up to the newest.
    await waitForStored(started(), "fgt-1", (started().events.filter((e) => e.type === "logs-stored").at(-1) as { total: number }).total + 200)
    expect(started().events.filter((e) => e.type === "logs-stored").length).toBeGreaterThan(storedWhenDropped)
    const newest = (await reader.command({ name: "logs", limit: 1 })).logs[0]?.id as number
    await new Promise<void>((resolve) => {
      answered = () => {
        if ((ids.at(-1) ?? 0) >= newest) resolve()
      }
      answered()
    })
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => (ids[0] as number) + i))
    expect(served.server.stats().clients).toBe(1)
    stopPoking()
    follower.stop()
    await reader.close()
  })
})
