/** The analyzer side of an OFTP connection, driven by a simulated clock: every way a session ends. */
import { describe, expect, it } from "vitest"
import { createActor } from "xstate"
import { SimulatedLabClock } from "../../src/machines/clock.ts"
import { OFTP_SESSION_DEFAULT_TIMERS, oftpSessionMachine } from "../../src/machines/oftp-session.ts"
import type { Hello } from "../../src/protocols/oftp/frames.ts"

const HELLO: Hello = {
  serial: "FGT60FTK20000001",
  hostname: "fgt-1",
  platform: "FortiGate-60F",
  version: "v7.4.3",
  vdoms: ["root"],
  uploadOption: "realtime",
  keepaliveMs: 5000
}

/** A session whose device-supplied actions are logged with the time and the context they saw. */
function session() {
  const clock = new SimulatedLabClock()
  const actions: string[] = []
  const registered: Hello[] = []
  const machine = oftpSessionMachine.provide({
    actions: {
      register: ({ event }) => {
        if (event.type === "HELLO") registered.push(event.hello)
        actions.push(`${clock.now()} register`)
      },
      sendHelloReply: ({ context }) => void actions.push(`${clock.now()} sendHelloReply ${context.status}`),
      sendKeepaliveReply: () => void actions.push(`${clock.now()} sendKeepaliveReply`),
      sendStatus: ({ event }) => void actions.push(`${clock.now()} sendStatus ${event.type === "AUTHORIZATION" ? event.status : "?"}`),
      sendError: ({ context }) => void actions.push(`${clock.now()} sendError ${context.code}`),
      sendClose: ({ context }) => void actions.push(`${clock.now()} sendClose ${context.reason}`),
      closeLink: () => void actions.push(`${clock.now()} closeLink`)
    }
  })
  const actor = createActor(machine, { input: OFTP_SESSION_DEFAULT_TIMERS, clock })
  actor.start()
  const state = () => actor.getSnapshot().value
  const ended = () => {
    const snapshot = actor.getSnapshot()
    return { status: snapshot.status, code: snapshot.context.code, reason: snapshot.context.reason }
  }
  /** TLS up, HELLO, REGISTERED: online at the current time. */
  const goOnline = (status: "authorized" | "pending" = "authorized") => {
    actor.send({ type: "TLS_UP" })
    actor.send({ type: "HELLO", hello: HELLO })
    actor.send({ type: "REGISTERED", status, adom: "root" })
    actions.length = 0
  }
  return { clock, actor, actions, registered, state, ended, goOnline }
}

describe("before HELLO", () => {
  it("closes with handshake-timeout when TLS does not come up, sending nothing", () => {
    const s = session()
    s.clock.advance(9999)
    expect(s.state()).toBe("handshake")
    s.clock.advance(1)
    expect(s.ended()).toEqual({ status: "done", code: "handshake-timeout", reason: "no TLS handshake within handshake-timeout (10 s)" })
    expect(s.actions).toEqual(["10000 closeLink"])
  })

  it("closes with tls-error when the handshake fails, at once and sending nothing", () => {
    const s = session()
    s.clock.advance(20)
    s.actor.send({ type: "TLS_FAILED", code: "tls-error", reason: "TLS handshake failed: wrong version number" })
    expect(s.ended()).toEqual({ status: "done", code: "tls-error", reason: "TLS handshake failed: wrong version number" })
    expect(s.actions).toEqual(["20 closeLink"])
  })

  it("ignores TLS_FAILED once TLS is up", () => {
    const s = session()
    s.actor.send({ type: "TLS_UP" })
    s.actor.send({ type: "TLS_FAILED", code: "tls-error", reason: "late" })
    expect(s.state()).toBe("awaitingHello")
    expect(s.actions).toEqual([])
  })

  it("closes with hello-timeout when no HELLO follows TLS within hello-timeout", () => {
    const s = session()
    s.clock.advance(3000)
    s.actor.send({ type: "TLS_UP" })
    s.clock.advance(9999)
    expect(s.state()).toBe("awaitingHello")
    s.clock.advance(1)
    expect(s.ended()).toEqual({ status: "done", code: "hello-timeout", reason: "no HELLO within hello-timeout (10 s)" })
    expect(s.actions).toEqual(["13000 sendError hello-timeout", "13000 closeLink"])
  })

  it("closes with hello-required when the first frame is not HELLO", () => {
    const s = session()
    s.actor.send({ type: "TLS_UP" })
    s.actor.send({ type: "FRAME", frameType: "logs" })
    expect(s.ended()).toEqual({ status: "done", code: "hello-required", reason: "the device sent LOGS before HELLO" })
    expect(s.actions).toEqual(["0 sendError hello-required", "0 closeLink"])
  })

  it("closes with the decoder's code on a protocol error", () => {
    const s = session()
    s.actor.send({ type: "TLS_UP" })
    s.actor.send({ type: "PROTOCOL_ERROR", code: "hello-missing-serial", reason: "the HELLO has no serial" })
    expect(s.ended()).toMatchObject({ code: "hello-missing-serial", reason: "the HELLO has no serial" })
    expect(s.actions).toEqual(["0 sendError hello-missing-serial", "0 closeLink"])
  })
})

describe("registration", () => {
  it("registers the HELLO and replies once the registry answers", () => {
    const s = session()
    s.actor.send({ type: "TLS_UP" })
    s.actor.send({ type: "HELLO", hello: HELLO })
    expect(s.state()).toBe("registering")
    expect(s.registered).toEqual([HELLO])
    s.clock.advance(60_000)
    s.actor.send({ type: "REGISTERED", status: "pending", adom: null })
    expect(s.state()).toBe("online")
    expect(s.actor.getSnapshot().context).toMatchObject({ status: "pending", hello: HELLO, reason: "FGT60FTK20000001 pending authorization" })
    expect(s.actions).toEqual(["0 register", "60000 sendHelloReply pending"])
  })

  it("refuses a duplicate session with the registry's code and reason", () => {
    const s = session()
    s.actor.send({ type: "TLS_UP" })
    s.actor.send({ type: "HELLO", hello: HELLO })
    s.actor.send({ type: "REFUSED", code: "duplicate-session", reason: "FGT60FTK20000001 already has a session from 127.0.0.1:40001" })
    expect(s.ended()).toEqual({ status: "done", code: "duplicate-session", reason: "FGT60FTK20000001 already has a session from 127.0.0.1:40001" })
    expect(s.actions).toEqual(["0 register", "0 sendError duplicate-session", "0 closeLink"])
  })
})

describe("online", () => {
  it("closes with keepalive-timeout after 3 × the device's keepalive without a frame", () => {
    const s = session()
    s.goOnline()
    s.clock.advance(14_000)
    s.actor.send({ type: "FRAME", frameType: "logs" })
    s.clock.advance(14_999)
    expect(s.state()).toBe("online")
    s.clock.advance(1)
    expect(s.ended()).toEqual({
      status: "done",
      code: "keepalive-timeout",
      reason: "no frame from FGT60FTK20000001 within 3 × its keepalive (15 s)"
    })
    expect(s.actions).toEqual(["29000 sendError keepalive-timeout", "29000 closeLink"])
  })

  it("answers KEEPALIVE and counts it as life", () => {
    const s = session()
    s.goOnline()
    s.clock.advance(10_000)
    s.actor.send({ type: "FRAME", frameType: "keepalive" })
    s.clock.advance(10_000)
    expect(s.state()).toBe("online")
    expect(s.actions).toEqual(["10000 sendKeepaliveReply"])
  })

  it("ends quietly when the device closes the session", () => {
    const s = session()
    s.goOnline()
    s.actor.send({ type: "CLOSE_FRAME", reason: "stopped" })
    expect(s.ended()).toEqual({ status: "done", code: "device-closed", reason: "the device closed the session: stopped" })
    expect(s.actions).toEqual(["0 closeLink"])
  })

  it("ends when the link is lost", () => {
    const s = session()
    s.goOnline()
    s.actor.send({ type: "LINK_LOST", reason: "the device reset the connection" })
    expect(s.ended()).toEqual({ status: "done", code: "link-lost", reason: "the device reset the connection" })
  })

  it("tells the device about authorization changes, and closes when it is deleted", () => {
    const s = session()
    s.goOnline("pending")
    s.actor.send({ type: "AUTHORIZATION", status: "authorized", adom: "root" })
    expect(s.actor.getSnapshot().context).toMatchObject({ status: "authorized", reason: "FGT60FTK20000001 authorized" })
    s.actor.send({ type: "AUTHORIZATION", status: "deleted", adom: null })
    expect(s.ended()).toEqual({ status: "done", code: "device-deleted", reason: "device deleted on the analyzer" })
    expect(s.actions).toEqual(["0 sendStatus authorized", "0 sendStatus deleted", "0 closeLink"])
  })

  it("says goodbye with CLOSE when the analyzer shuts down", () => {
    const s = session()
    s.goOnline()
    s.actor.send({ type: "SHUTDOWN", reason: "the analyzer is stopping" })
    expect(s.ended()).toEqual({ status: "done", code: "analyzer-closed", reason: "the analyzer is stopping" })
    expect(s.actions).toEqual(["0 sendClose the analyzer is stopping", "0 closeLink"])
  })
})
