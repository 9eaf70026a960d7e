/** The FortiManager side of one FGFM connection on a simulated clock. */
import { describe, expect, it } from "vitest"
import { createActor } from "xstate"
import { SimulatedLabClock } from "../../src/machines/clock.ts"
import { FGFM_SESSION_DEFAULT_TIMERS, fgfmSessionMachine } from "../../src/machines/fgfm-session.ts"
import type { FgfmRegister } from "../../src/protocols/fgfm/frames.ts"

const REGISTER: FgfmRegister = { serialno: "FGT60FTK20000001", hostname: "fgt-1", platform: "FortiGate-60F", version: "v7.4.4", keepaliveInterval: 300, sockTimeout: 900 }

function session() {
  const clock = new SimulatedLabClock()
  const actions: string[] = []
  const log = (name: string) => () => void actions.push(`${clock.now()} ${name}`)
  const machine = fgfmSessionMachine.provide({
    actions: {
      register: log("register"),
      sendRegisterReply: log("sendRegisterReply"),
      sendKeepaliveReply: log("sendKeepaliveReply"),
      sendStatus: log("sendStatus"),
      sendError: log("sendError"),
      sendClose: log("sendClose"),
      closeLink: log("closeLink")
    }
  })
  const actor = createActor(machine, { input: FGFM_SESSION_DEFAULT_TIMERS, clock })
  actor.start()
  const state = () => String(actor.getSnapshot().value)
  const context = () => actor.getSnapshot().context
  const registered = () => {
    actor.send({ type: "TLS_UP" })
    actor.send({ type: "REGISTER", register: REGISTER })
    actor.send({ type: "ACCEPTED", status: "pending" })
    actions.length = 0
  }
  return { clock, actor, actions, state, context, registered }
}

describe("fgfm-session", () => {
  it("registers a device and answers its keepalives", () => {
    const s = session()
    s.actor.send({ type: "TLS_UP" })
    s.actor.send({ type: "REGISTER", register: REGISTER })
    expect(s.state()).toBe("registering")
    s.actor.send({ type: "ACCEPTED", status: "pending" })
    expect(s.state()).toBe("registered")
    expect(s.context()).toMatchObject({ status: "pending", sockTimeoutMs: 900_000, reason: "FGT60FTK20000001 registered, pending authorization" })
    s.actor.send({ type: "MESSAGE", messageType: "keepalive" })
    expect(s.actions).toEqual(["0 register", "0 sendRegisterReply", "0 sendKeepaliveReply"])
  })

  it("closes with handshake-timeout and register-timeout", () => {
    const a = session()
    a.clock.advance(10_000)
    expect(a.context()).toMatchObject({ code: "handshake-timeout" })
    expect(a.state()).toBe("closed")
    const b = session()
    b.actor.send({ type: "TLS_UP" })
    b.clock.advance(10_000)
    expect(b.context()).toMatchObject({ code: "register-timeout", reason: "no request=register within register-timeout (10 s)" })
    expect(b.actions).toEqual(["10000 sendError", "10000 closeLink"])
  })

  it("refuses anything before request=register", () => {
    const s = session()
    s.actor.send({ type: "TLS_UP" })
    s.actor.send({ type: "MESSAGE", messageType: "keepalive" })
    expect(s.context()).toMatchObject({ code: "register-required", reason: "the device sent request=keepalive before request=register" })
  })

  it("closes a device silent for its sock_timeout; any message resets the timer", () => {
    const s = session()
    s.registered()
    s.clock.advance(899_000)
    s.actor.send({ type: "MESSAGE", messageType: "keepalive" })
    s.clock.advance(899_000)
    expect(s.state()).toBe("registered")
    s.clock.advance(1_000)
    expect(s.context()).toMatchObject({ code: "sock-timeout", reason: "nothing from FGT60FTK20000001 within sock_timeout (900 s)" })
    expect(s.actions).toEqual(["899000 sendKeepaliveReply", "1799000 sendError", "1799000 closeLink"])
  })

  it("tells the device about authorization and deletion", () => {
    const s = session()
    s.registered()
    s.actor.send({ type: "AUTHORIZATION", status: "authorized" })
    expect(s.context().status).toBe("authorized")
    s.actor.send({ type: "AUTHORIZATION", status: "deleted" })
    expect(s.context()).toMatchObject({ code: "device-deleted" })
    expect(s.actions).toEqual(["0 sendStatus", "0 sendStatus", "0 closeLink"])
  })

  it("records a duplicate session refused and a device that closed", () => {
    const a = session()
    a.actor.send({ type: "TLS_UP" })
    a.actor.send({ type: "REGISTER", register: REGISTER })
    a.actor.send({ type: "REFUSED", code: "duplicate-session", reason: "already connected" })
    expect(a.context()).toMatchObject({ code: "duplicate-session", reason: "already connected" })
    const b = session()
    b.registered()
    b.actor.send({ type: "CLOSE_MESSAGE", reason: "stopped" })
    expect(b.context()).toMatchObject({ code: "device-closed", reason: "the device closed the session: stopped" })
  })
})
