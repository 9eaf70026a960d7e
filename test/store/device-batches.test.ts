/** Several OFTP batches in one transaction (`appendDeviceBatches`): each one all or nothing, in order, exactly once. */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import type { LogRecordInput } from "../../src/store/log-record.ts"
import { LogStore } from "../../src/store/log-store.ts"
import { StoreError } from "../../src/store/store-error.ts"
import { logRecord, T0 } from "../support/records.ts"

type DeviceRecord = LogRecordInput & { readonly seq: number }

const record = (seq: number, name: string): DeviceRecord => ({
  ...logRecord({ receivedAt: T0 + seq, transport: "tcp", device: name, raw: `devname="${name}" type="traffic" fazlab_seq=${seq}`, fields: "from-raw" }),
  seq
})

const range = (first: number, last: number, name: string): DeviceRecord[] =>
  Array.from({ length: last - first + 1 }, (_, i) => record(first + i, name))

let dir: string
let store: LogStore
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "fazlab-batches-"))
  store = LogStore.open({ path: join(dir, "logs.sqlite") })
  for (const [serial, name] of [["FGT-A", "fgt-a"], ["FGT-B", "fgt-b"]] as const) {
    store.devices.seen({ serial, name, platform: "FortiGate-60F", version: "v7.4.4", ip: "127.0.0.1", vdoms: ["root"] }, 0)
    store.devices.authorize(serial, null)
  }
})
afterEach(() => {
  store.close()
  rmSync(dir, { recursive: true, force: true })
})

describe("LogStore.appendDeviceBatches", () => {
  it("stores the batches of several devices in order, skips what a device stored before, and isolates a batch that fails", () => {
    store.appendDeviceBatch("FGT-A", range(1, 2, "fgt-a"), { held: false })
    const results = store.appendDeviceBatches([
      { serial: "FGT-A", records: range(1, 4, "fgt-a"), held: false },
      { serial: "FGT-B", records: range(1, 3, "fgt-b"), held: true },
      { serial: "FGT-UNKNOWN", records: range(1, 2, "nobody"), held: false },
      { serial: "FGT-A", records: [record(5, "fgt-a"), record(0, "fgt-a")], held: false },
      { serial: "FGT-A", records: range(5, 6, "fgt-a"), held: false }
    ])
    expect(results.slice(0, 2)).toEqual([
      { stored: 2, duplicates: 2, gaps: 0, lastSeq: 4 },
      { stored: 3, duplicates: 0, gaps: 0, lastSeq: 3 }
    ])
    expect(results[2]).toBeInstanceOf(StoreError)
    expect(results[3]).toBeInstanceOf(StoreError)
    expect(results[4]).toEqual({ stored: 2, duplicates: 0, gaps: 0, lastSeq: 6 })
    expect(store.sequenceReport("fgt-a", 6)).toMatchObject({ missing: 0, duplicated: 0, distinct: 6 })
    expect(store.count({ device: "fgt-b" })).toBe(0)
    expect(store.count({ device: "fgt-b", held: "only" })).toBe(3)
    expect(store.count({ device: "nobody", held: "include" })).toBe(0)
    expect(store.devices.get("FGT-A")?.lastSeq).toBe(6)
  })
})
