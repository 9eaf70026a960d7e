/** The FortiGate side of FGFM on a simulated clock: register, keepalive_interval, sock_timeout, retry. */
import { describe, expect, it } from "vitest"
import { createActor, fromPromise, waitFor } from "xstate"
import { SimulatedLabClock } from "../../src/machines/clock.ts"
import { FGFM_CLIENT_DEFAULT_TIMERS, fgfmClientMachine, fgfmClientPhase } from "../../src/machines/fgfm-client.ts"
import type { FgfmRegisterReply } from "../../src/protocols/fgfm/frames.ts"

const REPLY: FgfmRegisterReply = { status: "pending", fmgSerialno: "FMG-VM0000000001", mgmtid: 1, keepaliveInterval: 300, sockTimeout: 900, chanWindowSz: 32768 }

function client() {
  const clock = new SimulatedLabClock()
  const attempts: Array<{ resolve: () => void; reject: (error: Error) => void }> = []
  const actions: string[] = []
  const log = (name: string) => () => void actions.push(`${clock.now()} ${name}`)
  const machine = fgfmClientMachine.provide({
    actors: { connect: fromPromise<void>(() => new Promise<void>((resolve, reject) => void attempts.push({ resolve, reject }))) },
    actions: { sendRegister: log("sendRegister"), sendKeepalive: log("sendKeepalive"), sendClose: log("sendClose"), closeLink: log("closeLink") }
  })
  const actor = createActor(machine, { input: FGFM_CLIENT_DEFAULT_TIMERS, clock })
  actor.start()
  actions.length = 0
  const phase = () => fgfmClientPhase(actor.getSnapshot())
  const register = async (reply: FgfmRegisterReply = REPLY) => {
    actor.send({ type: "START" })
    attempts.at(-1)?.resolve()
    await waitFor(actor, (s) => s.matches({ establishing: "registering" }))
    actor.send({ type: "REGISTER_REPLY", ...reply })
    actions.length = 0
  }
  return { clock, actor, attempts, actions, phase, register }
}

describe("registering", () => {
  it("connects, sends the register request and is registered with the FortiManager's verdict", async () => {
    const c = client()
    c.actor.send({ type: "START" })
    expect(c.phase()).toBe("connecting")
    c.clock.advance(1500)
    c.attempts[0]?.resolve()
    await waitFor(c.actor, (s) => s.matches({ establishing: "registering" }))
    expect(c.actions).toEqual(["1500 sendRegister"])
    c.actor.send({ type: "REGISTER_REPLY", ...REPLY })
    expect(c.phase()).toBe("registered")
    expect(c.actor.getSnapshot().context).toMatchObject({
      authorization: "pending",
      managerSerial: "FMG-VM0000000001",
      mgmtid: 1,
      reason: "registered with FMG-VM0000000001; pending authorization on the FortiManager"
    })
  })

  it("retries after retry-interval when the connection fails", async () => {
    const c = client()
    c.actor.send({ type: "START" })
    c.attempts[0]?.reject(new Error("connection refused"))
    await waitFor(c.actor, (s) => s.matches("retrying"))
    expect(c.actor.getSnapshot().context.reason).toBe("connection refused")
    c.clock.advance(9_999)
    expect(c.attempts).toHaveLength(1)
    c.clock.advance(1)
    expect(c.phase()).toBe("connecting")
    expect(c.attempts).toHaveLength(2)
  })

  it("gives up on a FortiManager that never replies within connect-timeout", async () => {
    const c = client()
    c.actor.send({ type: "START" })
    c.attempts[0]?.resolve()
    await waitFor(c.actor, (s) => s.matches({ establishing: "registering" }))
    c.clock.advance(10_000)
    expect(c.phase()).toBe("retrying")
    expect(c.actor.getSnapshot().context.reason).toBe("no register reply within connect-timeout (10 s)")
  })

  it("stops for good when the FortiManager deleted the device", async () => {
    const c = client()
    await c.register()
    c.actor.send({ type: "STATUS", status: "deleted" })
    expect(c.phase()).toBe("stopped-by-manager")
    c.clock.advance(3_600_000)
    expect(c.attempts).toHaveLength(1)
  })
})

describe("registered", () => {
  it("sends a keepalive every keepalive_interval (300 s) while answers come back", async () => {
    const c = client()
    await c.register()
    c.clock.advance(299_999)
    expect(c.actions).toEqual([])
    c.clock.advance(1)
    c.actor.send({ type: "RECEIVED" })
    c.clock.advance(300_000)
    c.actor.send({ type: "RECEIVED" })
    c.clock.advance(300_000)
    c.actor.send({ type: "RECEIVED" })
    c.clock.advance(300_000)
    expect(c.actions).toEqual(["300000 sendKeepalive", "600000 sendKeepalive", "900000 sendKeepalive", "1200000 sendKeepalive"])
    expect(c.phase()).toBe("registered")
  })

  it("gives the link up after sock_timeout (900 s) with nothing received, and retries", async () => {
    const c = client()
    await c.register()
    c.clock.advance(899_999)
    expect(c.phase()).toBe("registered")
    c.clock.advance(1)
    expect(c.phase()).toBe("retrying")
    expect(c.actor.getSnapshot().context.reason).toBe("nothing from the FortiManager within sock_timeout (900 s)")
    expect(c.actions.at(-1)).toBe("900000 closeLink")
  })

  it("uses the timers the FortiManager's reply announces", async () => {
    const c = client()
    await c.register({ ...REPLY, keepaliveInterval: 120, sockTimeout: 360 })
    // One step per interval: the simulated clock fires timers due within one step at its end.
    for (let i = 0; i < 3; i++) c.clock.advance(120_000)
    expect(c.actions).toEqual(["120000 sendKeepalive", "240000 sendKeepalive", "360000 closeLink"])
    expect(c.phase()).toBe("retrying")
  })

  it("follows authorization changes and says goodbye on STOP", async () => {
    const c = client()
    await c.register()
    c.actor.send({ type: "STATUS", status: "authorized" })
    expect(c.actor.getSnapshot().context.authorization).toBe("authorized")
    c.actor.send({ type: "STOP" })
    expect(c.actions).toEqual(["0 sendClose", "0 closeLink"])
    expect(c.phase()).toBe("disconnected")
  })
})
