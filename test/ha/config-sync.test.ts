/**
 * Configuration sync brings a returning member up to date with deletions too: a device deleted
 * on the primary while a secondary was down is gone from that secondary once it has caught up
 * (the primary's CONFIG_SYNC rows are its whole registry). Real sockets, real clock.
 */
import * as Effect from "effect/Effect"
import { afterEach, describe, expect, it } from "vitest"
import type { FortiAnalyzer } from "../../src/devices/fortianalyzer/analyzer.ts"
import type { LabEvent } from "../../src/events/events.ts"
import { type StartedLab, startLab, waitForEvent, waitForRole } from "../support/lab.ts"

const YAML = `
name: config-sync
devices:
  faz-a: { kind: fortianalyzer, serial: FAZ-VM0000000001, oftp: { auto-authorize: true }, ha: { priority: 120 } }
  faz-b: { kind: fortianalyzer, serial: FAZ-VM0000000002, oftp: { auto-authorize: true } }
  fgt-1: { kind: fortigate, serial: FGT60FTK20000001, fortianalyzer: { server: lab, serial: [FAZ-VM0000000001, FAZ-VM0000000002], rate: 50/s } }
ha:
  lab: { members: [faz-a, faz-b], group-id: 7, hb-interval: 200ms, hb-lost-threshold: 3 }
`

type Synced = Extract<LabEvent, { type: "ha-synced" }>

const analyzer = (started: StartedLab, id: string): FortiAnalyzer => started.lab.analyzers().find((a) => a.id === id) as FortiAnalyzer
const syncedAfter = (started: StartedLab, from: number) =>
  waitForEvent(started.lab.bus, started.events.slice(from), (e): e is Synced => e.type === "ha-synced" && e.device === "faz-b", 10_000)

describe("HA configuration sync", () => {
  let started: StartedLab | null = null
  afterEach(async () => {
    await started?.close()
    started = null
  })

  it("removes from a returning secondary a device deleted while it was down", async () => {
    const current = (started = await startLab(YAML))
    const { lab } = current
    await waitForRole(current, "faz-a", "primary")
    await waitForEvent(lab.bus, current.events, (e): e is LabEvent => e.type === "logs-acked" && e.device === "fgt-1")
    await syncedAfter(current, 0)
    expect(analyzer(current, "faz-b").store.devices.get("FGT60FTK20000001")).toBeDefined()

    // The FortiGate stops first, or it would register again at once.
    await Effect.runPromise(lab.perform({ stop: "fgt-1" }))
    await Effect.runPromise(lab.perform({ kill: "faz-b" }))
    await Effect.runPromise(lab.perform({ deleteDevice: { analyzer: "faz-a", device: "fgt-1" } }))
    expect(analyzer(current, "faz-a").store.devices.get("FGT60FTK20000001")).toBeUndefined()

    const restartedAt = current.events.length
    await Effect.runPromise(lab.perform({ start: "faz-b" }))
    await syncedAfter(current, restartedAt)
    expect(analyzer(current, "faz-b").store.devices.get("FGT60FTK20000001")).toBeUndefined()
  })
})
