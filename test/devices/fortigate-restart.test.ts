/**
 * A lab restarted on its data folder: the analyzer's store remembers every record of fgt-1 by
 * sequence number, while the FortiGate of the new run numbers its records from 1 again. Those
 * records must not pass for "already stored": the FortiGate is told the analyzer's lastSeq at
 * HELLO, numbers its queued records after it (`logs-renumbered`), and every record it has
 * acknowledged in the new run is in the store.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { isEvent, type StartedLab, useLab, waitForEvent } from "../support/lab.ts"

const YAML = `
name: restart
devices:
  faz-1: { kind: fortianalyzer, oftp: { auto-authorize: true } }
  fgt-1: { kind: fortigate, fortianalyzer: { server: faz-1, serial: FAZ-VM0000000001, rate: 200/s } }
`

const ackedAtLeast = (started: StartedLab, total: number) =>
  waitForEvent(started, "logs-acked", (e) => e.device === "fgt-1" && e.total >= total)

const storedFromFgt1 = (started: StartedLab): number => started.lab.analyzers()[0]?.store.count({ device: "fgt-1" }) ?? 0

describe("a lab restarted on its data folder", () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "fazlab-restart-"))
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }))

  it("stores the new run's records instead of taking them for the old run's", async () => {
    const first = await useLab(YAML, { dataDir })
    await ackedAtLeast(first, 100)
    await first.close()
    const storedBefore = first.events.filter(isEvent("logs-acked", (e) => e.device === "fgt-1")).at(-1)?.total ?? 0
    expect(storedBefore).toBeGreaterThanOrEqual(100)

    const second = await useLab(YAML, { dataDir })
    const renumbered = await waitForEvent(second, "logs-renumbered")
    expect(renumbered.device).toBe("fgt-1")
    expect(renumbered.from).toBeGreaterThan(storedBefore)
    // 200 more records acknowledged in this run: each of them is in the store (rows are distinct
    // sequence numbers; without the renumbering the first ones would have been taken for stored).
    const acked = await ackedAtLeast(second, storedBefore + 200)
    expect(storedFromFgt1(second)).toBeGreaterThanOrEqual(acked.total)
  })
})
