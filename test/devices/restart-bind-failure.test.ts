/**
 * A device started again while another program holds its documented port (the ListenerRun path
 * shared by the analyzer and the FortiManager): the start fails with the port named, the event
 * says so (`listener-failed`), the device is `failed`, nothing it bound is left behind; once the
 * port is free, the next start listens again.
 */
import * as net from "node:net"
import * as Effect from "effect/Effect"
import { describe, expect, it } from "vitest"
import { FORTIMANAGER_PORTS } from "../../src/devices/fortimanager/fortimanager.ts"
import { freePortBase } from "../support/ports.ts"
import { isEvent, useLab } from "../support/lab.ts"

const YAML = `name: restart-bind-failure
devices:
  fmg-1: { kind: fortimanager }
`

const occupy = (port: number): Promise<net.Server> =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen({ host: "127.0.0.1", port, exclusive: true }, () => resolve(server))
  })

const close = (server: net.Server): Promise<void> => new Promise((resolve) => server.close(() => resolve()))

describe("a device started again while its port is taken", () => {
  it("fails with the port named, reports listener-failed, is failed; starts once the port is free", async () => {
    const base = await freePortBase(FORTIMANAGER_PORTS)
    const started = await useLab(YAML, { portBase: base })
    const { lab, events } = started
    const fmg = lab.device("fmg-1")
    expect(fmg?.status()).toBe("running")

    await Effect.runPromise(lab.perform({ stop: "fmg-1" }))
    const squatter = await occupy(base + 541)
    const from = events.length
    try {
      const error = await Effect.runPromise(Effect.flip(lab.perform({ start: "fmg-1" })))
      expect(error.message).toContain("tcp/541")
      expect(error.message).toContain(`127.0.0.1:${base + 541}`)
      const failed = events.slice(from).filter(isEvent("listener-failed"))
      expect(failed).toMatchObject([{ device: "fmg-1", port: "tcp/541", address: "127.0.0.1", actualPort: base + 541, code: "EADDRINUSE" }])
      expect(fmg?.status()).toBe("failed")
      expect(events.slice(from).some((event) => event.type === "device-started")).toBe(false)
    } finally {
      await close(squatter)
    }

    const again = events.length
    await Effect.runPromise(lab.perform({ start: "fmg-1" }))
    expect(fmg?.status()).toBe("running")
    expect(events.slice(again).map((event) => event.type)).toEqual(expect.arrayContaining(["listener-bound", "device-started"]))
    expect(await lab.probe("fmg-1", "tcp/541")).toBe(true)
  })
})
