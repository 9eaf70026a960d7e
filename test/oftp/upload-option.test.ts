/**
 * FortiOS `upload-option` changes when batches go: realtime as logs exist, 1-minute once a
 * minute. The lab runs on a simulated clock (real sockets, simulated time), so a minute passes
 * in milliseconds and the test is deterministic. Also `reliable disable`: logs go over UDP/514.
 */
import { describe, expect, it } from "vitest"
import { SimulatedLabClock } from "../../src/machines/clock.ts"
import { useLab, waitForStored } from "../support/lab.ts"

const lab = (fortianalyzer: string) => `
name: upload-option
devices:
  faz-1: { kind: fortianalyzer, oftp: { auto-authorize: true } }
  fgt-1: { kind: fortigate, fortianalyzer: { server: faz-1, serial: FAZ-VM0000000001, rate: 10/s, ${fortianalyzer} } }
`

/** Moves simulated time in 100 ms steps, letting real I/O run between steps. */
const advance = async (clock: SimulatedLabClock, ms: number) => {
  for (let done = 0; done < ms; done += 100) {
    clock.advance(100)
    await new Promise((resolve) => setImmediate(resolve))
  }
}

describe("upload-option and reliable", () => {
  it("1-minute holds logs in the queue until the minute is up, then uploads them all", async () => {
    const clock = new SimulatedLabClock()
    const started = await useLab(lab("upload-option: 1-minute"), { clock })
    const analyzer = started.lab.analyzers()[0]!
    await advance(clock, 30_000)
    expect(analyzer.store.count({ device: "fgt-1" })).toBe(0)
    await advance(clock, 30_100)
    await waitForStored(started, "fgt-1", 590)
    expect(analyzer.store.count({ device: "fgt-1" })).toBeGreaterThanOrEqual(590)
  })

  it("realtime uploads within a second of simulated time", async () => {
    const clock = new SimulatedLabClock()
    const started = await useLab(lab("upload-option: realtime"), { clock })
    await advance(clock, 2_000)
    await waitForStored(started, "fgt-1", 10)
  })

  it("reliable disable sends the logs over UDP/514 instead, unencrypted", async () => {
    const started = await useLab(lab("reliable: disable"))
    await waitForStored(started, "fgt-1", 5)
    const rows = started.lab.analyzers()[0]!.store.query({ device: "fgt-1", limit: 5 })
    expect(rows.every((row) => row.transport === "udp" && row.format === "fortios")).toBe(true)
  })
})
