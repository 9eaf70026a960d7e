/**
 * Configuration sync brings a returning member up to date with deletions too: a device deleted
 * on the primary while a secondary was down is gone from that secondary once it has caught up
 * (the primary's CONFIG_SYNC rows are its whole registry). Real sockets, real clock.
 */
import * as Effect from "effect/Effect"
import { describe, expect, it } from "vitest"
import type { FortiAnalyzer } from "../../src/devices/fortianalyzer/analyzer.ts"
import { type StartedLab, useLab, waitForEvent, waitForRole } from "../support/lab.ts"

const YAML = `
name: config-sync
devices:
  faz-a: { kind: fortianalyzer, serial: FAZ-VM0000000001, oftp: { auto-authorize: true }, ha: { priority: 120 } }
  faz-b: { kind: fortianalyzer, serial: FAZ-VM0000000002, oftp: { auto-authorize: true } }
  fgt-1: { kind: fortigate, serial: FGT60FTK20000001, fortianalyzer: { server: lab, serial: [FAZ-VM0000000001, FAZ-VM0000000002], rate: 50/s } }
ha:
  lab: { members: [faz-a, faz-b], group-id: 7, hb-interval: 200ms, hb-lost-threshold: 3 }
`

const analyzer = (started: StartedLab, id: string): FortiAnalyzer => started.lab.analyzers().find((a) => a.id === id) as FortiAnalyzer
const syncedAfter = (started: StartedLab, from: number) =>
  waitForEvent(started, "ha-synced", (e) => e.device === "faz-b", { from })

describe("HA configuration sync", () => {
  it("removes from a returning secondary a device deleted while it was down", async () => {
    const started = await useLab(YAML)
    const { lab } = started
    await waitForRole(started, "faz-a", "primary")
    await waitForEvent(started, "logs-acked", (e) => e.device === "fgt-1")
    await syncedAfter(started, 0)
    expect(analyzer(started, "faz-b").store.devices.get("FGT60FTK20000001")).toBeDefined()

    // The FortiGate stops first, or it would register again at once.
    await Effect.runPromise(lab.perform({ stop: "fgt-1" }))
    await Effect.runPromise(lab.perform({ kill: "faz-b" }))
    await Effect.runPromise(lab.perform({ deleteDevice: { analyzer: "faz-a", device: "fgt-1" } }))
    expect(analyzer(started, "faz-a").store.devices.get("FGT60FTK20000001")).toBeUndefined()

    const restartedAt = started.events.length
    await Effect.runPromise(lab.perform({ start: "faz-b" }))
    await syncedAfter(started, restartedAt)
    expect(analyzer(started, "faz-b").store.devices.get("FGT60FTK20000001")).toBeUndefined()
  })
})
