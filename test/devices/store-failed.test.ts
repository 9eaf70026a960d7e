/**
 * A syslog batch the store cannot take (a full disk, a lock held too long): syslog is never
 * acknowledged, so the analyzer drops the batch, says so once (`store-failed`, with the store's
 * sentence) and goes on storing the next ones; the process keeps running. Real UDP on loopback.
 */
import { afterAll, beforeAll, expect, it, vi } from "vitest"
import type { FortiAnalyzer } from "../../src/devices/fortianalyzer/analyzer.ts"
import type { LabEvent } from "../../src/events/events.ts"
import { StoreError } from "../../src/store/store-error.ts"
import { type StartedLab, startLab, waitForEvent, waitForStored } from "../support/lab.ts"

const LAB = `name: store-failed
devices:
  faz-1: { kind: fortianalyzer }
  fgt-1: { kind: fortigate, syslog: { server: faz-1, mode: udp, rate: 200/s } }
`

let started: StartedLab
let analyzer: FortiAnalyzer

beforeAll(async () => {
  started = await startLab(LAB)
  analyzer = started.lab.analyzers()[0]!
  await waitForStored(started, "fgt-1", 1)
})
afterAll(async () => {
  await started.close()
})

it("drops a batch the store refused, says so, and stores the next ones", async () => {
  const reason = "Could not store logs in logs.sqlite (database or disk is full)."
  const append = vi.spyOn(analyzer.store, "append").mockImplementationOnce(() => {
    throw new StoreError("store-write-failed", reason)
  })
  const failed = await waitForEvent(started.lab.bus, started.events, (e): e is Extract<LabEvent, { type: "store-failed" }> => e.type === "store-failed")
  expect(failed).toMatchObject({ device: "faz-1", reason })
  expect(failed.dropped).toBeGreaterThan(0)
  append.mockRestore()
  const total = started.events.filter((e): e is Extract<LabEvent, { type: "logs-stored" }> => e.type === "logs-stored").at(-1)?.total ?? 0
  await waitForStored(started, "fgt-1", total + 50)
})
