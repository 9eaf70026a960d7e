/**
 * The registry commands against a real analyzer, served straight from the `Lab` (it is a
 * ControlTarget as it is): a FortiGate unknown to the analyzer registers over OFTP and waits,
 * unauthorized, with its logs held; `devices` lists it, `authorize` releases its logs into an
 * ADOM, `delete-device` removes it, and an unknown serial gets the analyzer's own sentence.
 */
import { Effect, Exit, Scope } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type ControlClient, connectControl } from "../../src/control/client.ts"
import { serveControl } from "../../src/control/server.ts"
import { sharedLab, waitForEvent } from "../support/lab.ts"

const SERIAL = "FGT60FTK20000002"

const yaml = `
name: control-registry
devices:
  faz-1:
    kind: fortianalyzer
    serial: FAZ-VM0000000001
  fgt-2:
    kind: fortigate
    serial: ${SERIAL}
    fortianalyzer: { server: faz-1, serial: FAZ-VM0000000001, rate: 100/s }
`

describe("registry commands on a real analyzer", () => {
  let scope: Scope.Closeable
  let client: ControlClient

  const started = sharedLab(yaml)
  beforeAll(async () => {
    scope = await Effect.runPromise(Scope.make())
    const server = await Effect.runPromise(Scope.provide(scope)(serveControl(started().lab, { dataDir: null })))
    client = await connectControl(server)
    await waitForEvent(started(), "device-registered", (event) => event.serial === SERIAL)
  })

  afterAll(async () => {
    await client.close()
    await Effect.runPromise(Scope.close(scope, Exit.void))
  })

  it("lists, authorizes and deletes a registered FortiGate", async () => {
    const { devices } = await client.command({ name: "devices" })
    expect(devices).toEqual([
      expect.objectContaining({ serial: SERIAL, state: "unauthorized", adom: null, analyzer: "faz-1", platform: "FortiGate-60F" })
    ])

    const authorized = await client.command({ name: "authorize", serial: SERIAL, adom: "lab" })
    expect(authorized).toEqual({ analyzer: "faz-1", serial: SERIAL, adom: "lab", released: expect.any(Number) })
    const after = await client.command({ name: "devices", analyzer: "faz-1" })
    expect(after.devices).toEqual([expect.objectContaining({ serial: SERIAL, state: "authorized", adom: "lab", heldLogs: 0 })])

    expect(await client.command({ name: "delete-device", serial: SERIAL })).toEqual({ analyzer: "faz-1", serial: SERIAL, dropped: expect.any(Number) })
    expect(started().lab.analyzers()[0]?.listDevices().some((device) => device.serial === SERIAL)).toBe(false)
  })

  it("passes on the analyzer's sentence for a serial it does not know", async () => {
    await expect(client.command({ name: "authorize", serial: "FGT00000000000" })).rejects.toThrow(
      "authorize FGT00000000000: faz-1 has no registered device with serial FGT00000000000; see fazlab ctl devices"
    )
  })
})
