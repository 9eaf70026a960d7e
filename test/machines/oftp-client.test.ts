/** The device side of an OFTP session, driven by a simulated clock: retries, keepalives, timeouts. */
import { describe, expect, it } from "vitest"
import { createActor, fromPromise, getNextSnapshot, waitFor } from "xstate"
import { SimulatedLabClock } from "../../src/machines/clock.ts"
import {
  OFTP_CLIENT_DEFAULT_TIMERS,
  type OftpClientContext,
  type OftpClientSnapshot,
  oftpClientMachine,
  oftpClientPhase
} from "../../src/machines/oftp-client.ts"
import type { HelloReply } from "../../src/protocols/oftp/frames.ts"

interface Attempt {
  readonly resolve: () => void
  readonly reject: (error: Error) => void
  readonly signal: AbortSignal
}

const REPLY: HelloReply = { status: "authorized", analyzerSerial: "FAZ-VM0000000001", adom: "root", lastSeq: 41, keepaliveMs: 5000 }

/** A client whose connect attempts the test settles, and whose actions are logged with the time. */
function client() {
  const clock = new SimulatedLabClock()
  const attempts: Attempt[] = []
  const actions: string[] = []
  const log = (name: string) => () => void actions.push(`${clock.now()} ${name}`)
  const machine = oftpClientMachine.provide({
    actors: {
      connect: fromPromise<void>(({ signal }) => new Promise<void>((resolve, reject) => void attempts.push({ resolve, reject, signal })))
    },
    actions: {
      sendHello: log("sendHello"),
      sendKeepalive: log("sendKeepalive"),
      sendKeepaliveReply: log("sendKeepaliveReply"),
      sendClose: log("sendClose"),
      closeLink: log("closeLink")
    }
  })
  const actor = createActor(machine, { input: OFTP_CLIENT_DEFAULT_TIMERS, clock })
  actor.start()
  actions.length = 0 // the initial `disconnected` entry
  const phase = () => oftpClientPhase(actor.getSnapshot())
  const reason = () => actor.getSnapshot().context.reason
  const lastAttempt = (): Attempt => {
    const attempt = attempts.at(-1)
    if (attempt === undefined) throw new Error("no connect attempt yet")
    return attempt
  }
  /** START, TLS up, HELLO_REPLY: online at the current time. */
  const goOnline = async (reply: HelloReply = REPLY) => {
    actor.send({ type: "START" })
    lastAttempt().resolve()
    await waitFor(actor, (s) => s.matches({ establishing: "hello" }))
    actor.send({ type: "HELLO_REPLY", ...reply })
    actions.length = 0
  }
  return { clock, actor, attempts, actions, phase, reason, lastAttempt, goOnline }
}

describe("connecting", () => {
  it("connects, says HELLO and goes online with the analyzer's verdict and lastSeq", async () => {
    const c = client()
    c.actor.send({ type: "START" })
    expect(c.phase()).toBe("connecting")
    c.clock.advance(2000)
    c.lastAttempt().resolve()
    await waitFor(c.actor, (s) => s.matches({ establishing: "hello" }))
    expect(c.actions).toEqual(["2000 sendHello"])
    c.actor.send({ type: "HELLO_REPLY", ...REPLY, status: "pending" })
    expect(c.phase()).toBe("online")
    expect(c.actor.getSnapshot().context).toMatchObject({
      authorization: "pending",
      lastSeq: 41,
      analyzerSerial: "FAZ-VM0000000001",
      adom: "root",
      reason: "connected to FAZ-VM0000000001; pending authorization on the analyzer"
    })
  })

  it.each([
    "connection refused by 127.0.1.1:514",
    "analyzer serial FAZ-VM0000000009 is not in the serial list: serial number of server is unauthorized"
  ])("retries after monitor-failure-retry-period when connect fails: %s", async (why) => {
    const c = client()
    c.actor.send({ type: "START" })
    c.lastAttempt().reject(new Error(why))
    await waitFor(c.actor, (s) => s.matches("retrying"))
    expect(c.reason()).toBe(why)
    expect(c.actions).toEqual(["0 closeLink"])
    c.clock.advance(4999)
    expect(c.phase()).toBe("retrying")
    expect(c.attempts).toHaveLength(1)
    c.clock.advance(1)
    expect(c.phase()).toBe("connecting")
    expect(c.attempts).toHaveLength(2)
  })

  it("gives up a connect that takes longer than conn-timeout, and aborts it", () => {
    const c = client()
    c.actor.send({ type: "START" })
    c.clock.advance(9999)
    expect(c.phase()).toBe("connecting")
    c.clock.advance(1)
    expect(c.phase()).toBe("retrying")
    expect(c.reason()).toBe("no TLS connection to the analyzer within conn-timeout (10 s)")
    expect(c.attempts[0]?.signal.aborted).toBe(true)
  })

  it("times out waiting for HELLO_REPLY: conn-timeout bounds connect + TLS + HELLO_REPLY together", async () => {
    const c = client()
    c.actor.send({ type: "START" })
    c.clock.advance(4000)
    c.lastAttempt().resolve()
    await waitFor(c.actor, (s) => s.matches({ establishing: "hello" }))
    c.clock.advance(5999)
    expect(c.phase()).toBe("hello")
    c.clock.advance(1)
    expect(c.phase()).toBe("retrying")
    expect(c.reason()).toBe("no HELLO_REPLY within conn-timeout (10 s)")
    expect(c.actions).toEqual(["4000 sendHello", "10000 closeLink"])
  })

  it("retries when the analyzer refuses the session with an ERROR", async () => {
    const c = client()
    c.actor.send({ type: "START" })
    c.lastAttempt().resolve()
    await waitFor(c.actor, (s) => s.matches({ establishing: "hello" }))
    c.actor.send({ type: "ERROR_FRAME", code: "duplicate-session", reason: "FGT60FTK20000001 already has a session" })
    expect(c.phase()).toBe("retrying")
    expect(c.reason()).toBe("the analyzer refused the session: FGT60FTK20000001 already has a session (duplicate-session)")
  })
})

describe("online", () => {
  it("sends a KEEPALIVE after monitor-keepalive-period without sending anything", async () => {
    const c = client()
    await c.goOnline()
    c.clock.advance(4999)
    c.actor.send({ type: "SENT" })
    c.clock.advance(4999)
    expect(c.actions).toEqual([])
    c.clock.advance(1)
    expect(c.actions).toEqual(["9999 sendKeepalive"])
    expect(c.actor.getSnapshot().matches({ online: "awaitingAnswer" })).toBe(true)
  })

  it("gives up on a silent analyzer conn-timeout after the keepalive, then reconnects", async () => {
    const c = client()
    await c.goOnline()
    c.clock.advance(5000)
    c.clock.advance(9999)
    expect(c.phase()).toBe("online")
    c.clock.advance(1)
    expect(c.phase()).toBe("retrying")
    expect(c.reason()).toBe("no answer to keepalive within conn-timeout (10 s)")
    expect(c.actions).toEqual(["5000 sendKeepalive", "15000 closeLink"])
    c.clock.advance(5000)
    expect(c.phase()).toBe("connecting")
    expect(c.attempts).toHaveLength(2)
  })

  it("stays online while the analyzer answers, and keeps sending keepalives", async () => {
    const c = client()
    await c.goOnline()
    c.clock.advance(5000)
    c.clock.advance(3000)
    c.actor.send({ type: "RECEIVED", frameType: "keepalive-reply" })
    c.clock.advance(5000)
    c.actor.send({ type: "RECEIVED", frameType: "ack" })
    c.clock.advance(5000)
    c.clock.advance(9999)
    expect(c.actions).toEqual(["5000 sendKeepalive", "13000 sendKeepalive", "18000 sendKeepalive"])
    expect(c.phase()).toBe("online")
  })

  it("answers the analyzer's KEEPALIVE", async () => {
    const c = client()
    await c.goOnline()
    c.actor.send({ type: "RECEIVED", frameType: "keepalive" })
    expect(c.actions).toEqual(["0 sendKeepaliveReply"])
  })

  it("goes to retrying with the device's reason when the link is lost", async () => {
    const c = client()
    await c.goOnline()
    c.actor.send({ type: "LINK_LOST", reason: "the analyzer reset the connection" })
    expect(c.phase()).toBe("retrying")
    expect(c.reason()).toBe("the analyzer reset the connection")
  })

  it("stops for good when the analyzer deletes the device, until started again", async () => {
    const c = client()
    await c.goOnline()
    c.actor.send({ type: "STATUS", status: "deleted", adom: null })
    expect(c.phase()).toBe("stopped-by-analyzer")
    expect(c.reason()).toBe("device deleted on the analyzer")
    expect(c.actions).toEqual(["0 closeLink"])
    c.clock.advance(600_000)
    expect(c.phase()).toBe("stopped-by-analyzer")
    expect(c.attempts).toHaveLength(1)
    c.actor.send({ type: "START" })
    expect(c.phase()).toBe("connecting")
  })

  it("treats ERROR device-deleted like STATUS deleted", async () => {
    const c = client()
    await c.goOnline()
    c.actor.send({ type: "ERROR_FRAME", code: "device-deleted", reason: "device deleted on the analyzer" })
    expect(c.phase()).toBe("stopped-by-analyzer")
  })

  it("STOP sends CLOSE, then drops the link", async () => {
    const c = client()
    await c.goOnline()
    c.actor.send({ type: "STOP" })
    expect(c.phase()).toBe("disconnected")
    expect(c.reason()).toBe("stopped")
    expect(c.actions).toEqual(["0 sendClose", "0 closeLink"])
  })

  it("STOP while retrying only drops the link: there is no session to close", async () => {
    const c = client()
    c.actor.send({ type: "START" })
    c.lastAttempt().reject(new Error("connection refused by 127.0.1.1:514"))
    await waitFor(c.actor, (s) => s.matches("retrying"))
    c.actions.length = 0
    c.actor.send({ type: "STOP" })
    expect(c.phase()).toBe("disconnected")
    expect(c.actions).toEqual(["0 closeLink"])
    c.clock.advance(60_000)
    expect(c.attempts).toHaveLength(1)
  })
})

describe("authorization changes (pure transitions)", () => {
  const context: OftpClientContext = {
    ...OFTP_CLIENT_DEFAULT_TIMERS,
    reason: "connected",
    authorization: "pending",
    lastSeq: 0,
    analyzerSerial: "FAZ-VM0000000001",
    adom: null
  }
  const online: OftpClientSnapshot = oftpClientMachine.resolveState({ value: { online: "quiet" }, context })

  it("a pending device becomes authorized and learns its ADOM", () => {
    const next = getNextSnapshot(oftpClientMachine, online, { type: "STATUS", status: "authorized", adom: "root" })
    expect(oftpClientPhase(next)).toBe("online")
    expect(next.context).toMatchObject({ authorization: "authorized", adom: "root", reason: "authorized on the analyzer" })
  })

  it("an authorized device can be put back to pending", () => {
    const authorized = getNextSnapshot(oftpClientMachine, online, { type: "STATUS", status: "authorized", adom: "root" })
    const next = getNextSnapshot(oftpClientMachine, authorized, { type: "STATUS", status: "pending", adom: null })
    expect(next.context).toMatchObject({ authorization: "pending", adom: null, reason: "pending authorization on the analyzer" })
  })

  it("HELLO_REPLY outside the hello step changes nothing", () => {
    const next = getNextSnapshot(oftpClientMachine, online, { type: "HELLO_REPLY", ...REPLY, lastSeq: 99 })
    expect(next.context.lastSeq).toBe(0)
  })
})
