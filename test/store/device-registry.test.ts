/** The analyzer's OFTP device registry, held logs, and exactly-once device batches. */
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import type { DeviceHello } from "../../src/store/device-registry.ts"
import type { LogRecordInput } from "../../src/store/log-record.ts"
import { LogStore } from "../../src/store/log-store.ts"
import { logRecord, T0 } from "../support/records.ts"
import { storeModes } from "../support/store.ts"

const SERIAL = "FGT60FTK20000001"

const hello = (overrides: Partial<DeviceHello> = {}): DeviceHello => ({
  serial: SERIAL,
  name: "FGT-1",
  platform: "FortiGate-60F",
  version: "v7.4.4",
  ip: "127.0.0.1",
  vdoms: ["root"],
  ...overrides
})

type DeviceRecord = LogRecordInput & { readonly seq: number }

/** One OFTP record of device `name` with sequence number `seq`. */
function record(seq: number, name = "FGT-1"): DeviceRecord {
  return {
    ...logRecord({
      receivedAt: T0 + seq,
      transport: "tcp",
      device: name,
      devid: "claimed-by-the-log",
      eventtime: "1793700000000000000",
      raw: `devname="${name}" type="traffic" seq=${seq}`,
      fields: { devname: name, type: "traffic" }
    }),
    seq
  }
}

/** Records with sequence numbers first..last. */
const range = (first: number, last: number, name?: string): DeviceRecord[] =>
  Array.from({ length: last - first + 1 }, (_, i) => record(first + i, name))

const seqs = (logs: ReadonlyArray<{ readonly seq: number | null }>): Array<number | null> => logs.map((log) => log.seq)

const { tempDir, modes } = storeModes("fazlab-registry-")

describe.each(modes)("device registry (%s)", (_mode, open) => {
  let store: LogStore
  beforeEach(() => {
    store = open()
  })
  afterEach(() => {
    store.close()
  })

  it("registers a new device as unauthorized, then updates it on its next HELLO", () => {
    expect(store.devices.get(SERIAL)).toBeUndefined()
    const first = store.devices.seen(hello(), T0)
    expect(first).toEqual({
      ...hello(),
      adom: null,
      state: "unauthorized",
      firstSeen: T0,
      lastSeen: T0,
      lastSeq: 0,
      heldLogs: 0
    })
    const again = store.devices.seen(hello({ name: "FGT-renamed", ip: "127.0.0.9", version: "v7.6.0", vdoms: ["root", "dmz"] }), T0 + 5000)
    expect(again).toEqual({
      ...first,
      name: "FGT-renamed",
      ip: "127.0.0.9",
      version: "v7.6.0",
      vdoms: ["root", "dmz"],
      lastSeen: T0 + 5000
    })
    expect(store.devices.get(SERIAL)).toEqual(again)
    expect(store.devices.list()).toEqual([again])
  })

  it("authorizes into the root ADOM by default or a named one, keeping state across HELLOs", () => {
    store.devices.seen(hello(), T0)
    store.devices.seen(hello({ serial: "FGT60FTK20000002", name: "FGT-2" }), T0)
    expect(store.devices.authorize(SERIAL, null)).toEqual({
      device: expect.objectContaining({ serial: SERIAL, state: "authorized", adom: "root" }),
      released: 0
    })
    expect(store.devices.authorize("FGT60FTK20000002", "branches").device).toMatchObject({ state: "authorized", adom: "branches" })
    expect(store.devices.authorize(SERIAL, "lab").device.adom).toBe("lab")
    expect(store.devices.seen(hello(), T0 + 1)).toMatchObject({ state: "authorized", adom: "lab", firstSeen: T0 })
  })

  it("lists devices by serial, filtered by state, each with its held logs", () => {
    store.devices.seen(hello({ serial: "FGT-C", name: "C" }), T0)
    store.devices.seen(hello({ serial: "FGT-A", name: "A" }), T0)
    store.devices.seen(hello({ serial: "FGT-B", name: "B" }), T0)
    store.appendDeviceBatch("FGT-C", range(1, 3, "C"), { held: true })
    store.appendDeviceBatch("FGT-A", range(1, 2, "A"), { held: true })
    store.devices.authorize("FGT-B", null)
    const brief = (list: ReadonlyArray<{ serial: string; heldLogs: number }>) => list.map(({ serial, heldLogs }) => ({ serial, heldLogs }))
    expect(brief(store.devices.list())).toEqual([
      { serial: "FGT-A", heldLogs: 2 },
      { serial: "FGT-B", heldLogs: 0 },
      { serial: "FGT-C", heldLogs: 3 }
    ])
    expect(brief(store.devices.list({ state: "unauthorized" }))).toEqual([
      { serial: "FGT-A", heldLogs: 2 },
      { serial: "FGT-C", heldLogs: 3 }
    ])
    expect(brief(store.devices.list({ state: "authorized" }))).toEqual([{ serial: "FGT-B", heldLogs: 0 }])
    expect(store.devices.get("FGT-C")?.heldLogs).toBe(3)
  })

  it("hides held logs from query, count, countByDevice and sequenceReport until the device is authorized", () => {
    store.devices.seen(hello(), T0)
    store.append([{ ...record(1, "FGT-syslog"), transport: "udp" }])
    expect(store.appendDeviceBatch(SERIAL, range(1, 4), { held: true })).toEqual({ stored: 4, duplicates: 0, gaps: 0, lastSeq: 4 })

    expect(seqs(store.query({}))).toEqual([1])
    expect(store.query({ device: "FGT-1" })).toEqual([])
    expect(store.count()).toBe(1)
    expect(store.count({ device: "FGT-1" })).toBe(0)
    expect(store.count({ type: "traffic" })).toBe(1)
    expect(store.countByDevice()).toEqual([{ device: "FGT-syslog", count: 1 }])
    expect(store.sequenceReport("FGT-1", 4)).toMatchObject({ stored: 0, missing: 4 })

    expect(store.query({ held: "only" }).map((log) => [log.device, log.seq])).toEqual([1, 2, 3, 4].map((seq) => ["FGT-1", seq]))
    expect(store.query({ held: "include" })).toHaveLength(5)
    expect(store.count({ held: "only", device: "FGT-1" })).toBe(4)
    expect(store.count({ held: "only", type: "traffic" })).toBe(4)
    expect(store.count({ held: "include" })).toBe(5)
    expect(store.countByDevice({ held: "only" })).toEqual([{ device: "FGT-1", count: 4 }])
    expect(store.sequenceReport("FGT-1", 4, { held: "only" })).toMatchObject({ stored: 4, missing: 0 })

    expect(store.devices.authorize(SERIAL, null).released).toBe(4)
    expect(store.count()).toBe(5)
    expect(seqs(store.query({ device: "FGT-1" }))).toEqual([1, 2, 3, 4])
    expect(store.countByDevice()).toEqual([
      { device: "FGT-1", count: 4 },
      { device: "FGT-syslog", count: 1 }
    ])
    expect(store.sequenceReport("FGT-1", 4)).toEqual({ stored: 4, distinct: 4, duplicated: 0, missing: 0, firstMissing: [] })
    expect(store.query({ held: "only" })).toEqual([])
    expect(store.devices.get(SERIAL)?.heldLogs).toBe(0)
  })

  it("stores a device's logs under its serial, whatever devid the log claims", () => {
    store.devices.seen(hello(), T0)
    store.appendDeviceBatch(SERIAL, range(1, 1), { held: false })
    expect(store.query({}).map((log) => log.devid)).toEqual([SERIAL])
  })

  it("gives released logs ids after every log stored so far, in their order, so followers see them", () => {
    store.devices.seen(hello(), T0)
    store.appendDeviceBatch(SERIAL, range(1, 2), { held: true })
    store.append([record(100, "FGT-syslog")])
    store.appendDeviceBatch(SERIAL, range(3, 3), { held: true })
    store.append([record(101, "FGT-syslog")])
    const followed = store.query({}).at(-1)?.id ?? 0
    store.devices.authorize(SERIAL, null)
    const released = store.query({ afterId: followed })
    expect(seqs(released)).toEqual([1, 2, 3])
    expect(seqs(store.query({}))).toEqual([100, 101, 1, 2, 3])
    store.append([record(102, "FGT-syslog")])
    expect(seqs(store.query({ afterId: released.at(-1)?.id ?? 0 }))).toEqual([102])
  })

  it("removes a device with its held logs, keeps its released ones, and registers it anew on its next HELLO", () => {
    store.devices.seen(hello(), T0)
    store.devices.seen(hello({ serial: "FGT-OTHER", name: "FGT-2" }), T0)
    store.appendDeviceBatch(SERIAL, range(1, 2), { held: true })
    store.appendDeviceBatch("FGT-OTHER", range(1, 3, "FGT-2"), { held: true })
    store.devices.authorize(SERIAL, null)
    store.appendDeviceBatch(SERIAL, range(3, 5), { held: true })

    expect(store.devices.remove(SERIAL)).toEqual({ dropped: 3 })
    expect(store.devices.get(SERIAL)).toBeUndefined()
    expect(seqs(store.query({ held: "include", device: "FGT-1" }))).toEqual([1, 2])
    expect(store.devices.get("FGT-OTHER")?.heldLogs).toBe(3)
    expect(store.devices.remove("FGT-OTHER")).toEqual({ dropped: 3 })
    expect(store.count({ held: "only" })).toBe(0)

    // Anew, but its released records 1-2 are still stored: they count as stored (see below).
    expect(store.devices.seen(hello(), T0 + 9)).toMatchObject({ state: "unauthorized", adom: null, firstSeen: T0 + 9, lastSeq: 2 })
  })

  it("registers a removed device again from the highest seq still stored for its serial, so a resend is not stored twice", () => {
    store.devices.seen(hello(), T0)
    store.appendDeviceBatch(SERIAL, range(1, 5), { held: true })
    store.devices.authorize(SERIAL, null)
    store.appendDeviceBatch(SERIAL, range(6, 8), { held: true })
    store.devices.seen(hello({ serial: "FGT-OTHER", name: "FGT-2" }), T0)
    store.appendDeviceBatch("FGT-OTHER", range(1, 3, "FGT-2"), { held: true })
    expect(store.devices.remove(SERIAL)).toEqual({ dropped: 3 })
    expect(store.devices.remove("FGT-OTHER")).toEqual({ dropped: 3 })

    // 1-5 were released and stay: the device starts after them. 6-8 were dropped with it: a resend stores them again.
    expect(store.devices.seen(hello(), T0 + 9)).toMatchObject({ firstSeen: T0 + 9, lastSeq: 5, heldLogs: 0 })
    expect(store.appendDeviceBatch(SERIAL, range(3, 10), { held: true })).toEqual({ stored: 5, duplicates: 3, gaps: 0, lastSeq: 10 })
    expect(seqs(store.query({ held: "include", device: "FGT-1" }))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    // Nothing of FGT-OTHER is stored any more: it starts from 0.
    expect(store.devices.seen(hello({ serial: "FGT-OTHER", name: "FGT-2" }), T0 + 9).lastSeq).toBe(0)
    expect(store.appendDeviceBatch("FGT-OTHER", range(1, 3, "FGT-2"), { held: true }).stored).toBe(3)
    // A HELLO of a known device leaves its lastSeq alone.
    expect(store.devices.seen(hello(), T0 + 10).lastSeq).toBe(10)
  })

  it("gives a device added by HA config sync the highest seq this store holds for it, so a catch-up stores each record once", () => {
    // A secondary that holds records 1-4 of a device the primary deleted (its row went with the deletion).
    store.devices.seen(hello(), T0)
    store.devices.authorize(SERIAL, null)
    store.appendDeviceBatch(SERIAL, range(1, 4), { held: false })
    store.devices.remove(SERIAL)
    // The device registered on the primary again: the row comes by CONFIG_SYNC, the catch-up sends from seq 1.
    const row = { ...hello(), adom: null, state: "unauthorized" as const, firstSeen: T0 + 5, lastSeen: T0 + 5 }
    expect(store.devices.restore(row).lastSeq).toBe(4)
    expect(store.appendDeviceBatch(SERIAL, range(1, 6), { held: true })).toMatchObject({ stored: 2, duplicates: 4, lastSeq: 6 })
    expect(store.devices.restore({ ...row, lastSeen: T0 + 6 }).lastSeq).toBe(6)
  })

  it("refuses to authorize, remove or store for an unknown serial, naming it", () => {
    const unknown = expect.objectContaining({
      name: "StoreError",
      code: "store-unknown-device",
      message: "No device with serial FGT-NOPE is registered on this analyzer; check the serial against its device list."
    })
    expect(() => store.devices.authorize("FGT-NOPE", null)).toThrow(unknown)
    expect(() => store.devices.remove("FGT-NOPE")).toThrow(unknown)
    expect(() => store.appendDeviceBatch("FGT-NOPE", range(1, 2), { held: false })).toThrow(unknown)
    expect(store.count({ held: "include" })).toBe(0)
    expect(store.devices.list()).toEqual([])
  })

  it("stores a resent batch once, counting the duplicates", () => {
    store.devices.seen(hello(), T0)
    expect(store.appendDeviceBatch(SERIAL, range(1, 5), { held: false })).toEqual({ stored: 5, duplicates: 0, gaps: 0, lastSeq: 5 })
    expect(store.appendDeviceBatch(SERIAL, range(1, 5), { held: false })).toEqual({ stored: 0, duplicates: 5, gaps: 0, lastSeq: 5 })
    expect(store.sequenceReport("FGT-1", 5)).toEqual({ stored: 5, distinct: 5, duplicated: 0, missing: 0, firstMissing: [] })
    expect(store.devices.get(SERIAL)?.lastSeq).toBe(5)
  })

  it("stores only the new part of a batch that overlaps what is stored", () => {
    store.devices.seen(hello(), T0)
    store.appendDeviceBatch(SERIAL, range(1, 5), { held: false })
    expect(store.appendDeviceBatch(SERIAL, range(3, 8), { held: false })).toEqual({ stored: 3, duplicates: 3, gaps: 0, lastSeq: 8 })
    expect(seqs(store.query({}))).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
  })

  it("skips records repeated or out of order within a batch as duplicates", () => {
    store.devices.seen(hello(), T0)
    const batch = [1, 2, 2, 3, 1, 4].map((seq) => record(seq))
    expect(store.appendDeviceBatch(SERIAL, batch, { held: false })).toEqual({ stored: 4, duplicates: 2, gaps: 0, lastSeq: 4 })
    expect(seqs(store.query({}))).toEqual([1, 2, 3, 4])
  })

  it("stores across gaps and counts the numbers skipped (1-3 and 6-8, then 11-19)", () => {
    store.devices.seen(hello(), T0)
    expect(store.appendDeviceBatch(SERIAL, [4, 5, 9].map((seq) => record(seq)), { held: false })).toEqual({
      stored: 3,
      duplicates: 0,
      gaps: 6,
      lastSeq: 9
    })
    expect(store.appendDeviceBatch(SERIAL, [8, 9, 10, 20].map((seq) => record(seq)), { held: false })).toEqual({
      stored: 2,
      duplicates: 2,
      gaps: 9,
      lastSeq: 20
    })
    expect(seqs(store.query({}))).toEqual([4, 5, 9, 10, 20])
  })

  it("answers an empty batch with the device's lastSeq", () => {
    store.devices.seen(hello(), T0)
    store.appendDeviceBatch(SERIAL, range(1, 3), { held: false })
    expect(store.appendDeviceBatch(SERIAL, [], { held: false })).toEqual({ stored: 0, duplicates: 0, gaps: 0, lastSeq: 3 })
  })

  it("stores a batch with a bad sequence number not at all, and keeps lastSeq", () => {
    store.devices.seen(hello(), T0)
    store.appendDeviceBatch(SERIAL, range(1, 2), { held: false })
    for (const bad of [0, 4.5, Number.NaN]) {
      expect(() => store.appendDeviceBatch(SERIAL, [record(3), record(bad)], { held: false })).toThrow(
        expect.objectContaining({ code: "store-write-failed", message: expect.stringContaining(`sequence number ${bad} is not an integer ≥ 1`) })
      )
    }
    expect(seqs(store.query({}))).toEqual([1, 2])
    expect(store.devices.get(SERIAL)?.lastSeq).toBe(2)
  })

  it("refuses to work after close", () => {
    store.close()
    const closed = expect.objectContaining({ code: "store-closed" })
    expect(() => store.devices.seen(hello(), T0)).toThrow(closed)
    expect(() => store.devices.list()).toThrow(closed)
    expect(() => store.appendDeviceBatch(SERIAL, [], { held: false })).toThrow(closed)
  })
})

describe("device registry file", () => {
  const storePath = (): string => join(tempDir(), "data", "logs.sqlite")

  it("keeps devices, lastSeq and held logs across close and reopen", () => {
    const first = LogStore.open({ path: storePath() })
    first.devices.seen(hello(), T0)
    first.appendDeviceBatch(SERIAL, range(1, 7), { held: true })
    first.close()
    const again = LogStore.open({ path: storePath() })
    try {
      expect(again.devices.get(SERIAL)).toMatchObject({ state: "unauthorized", lastSeq: 7, heldLogs: 7, firstSeen: T0 })
      expect(again.appendDeviceBatch(SERIAL, range(5, 9), { held: true })).toEqual({ stored: 2, duplicates: 3, gaps: 0, lastSeq: 9 })
      expect(again.devices.authorize(SERIAL, null).released).toBe(9)
      expect(again.sequenceReport("FGT-1", 9)).toMatchObject({ stored: 9, duplicated: 0, missing: 0 })
    } finally {
      again.close()
    }
  })

  it("shows a second connection the logs of a device once it is authorized", () => {
    const writer = LogStore.open({ path: storePath() })
    const reader = LogStore.open({ path: storePath() })
    try {
      writer.devices.seen(hello(), T0)
      writer.appendDeviceBatch(SERIAL, range(1, 3), { held: true })
      expect(reader.count()).toBe(0)
      expect(reader.devices.list({ state: "unauthorized" })).toMatchObject([{ serial: SERIAL, heldLogs: 3 }])
      writer.devices.authorize(SERIAL, "lab")
      expect(seqs(reader.query({ device: "FGT-1" }))).toEqual([1, 2, 3])
      expect(reader.devices.get(SERIAL)).toMatchObject({ state: "authorized", adom: "lab", heldLogs: 0 })
      writer.appendDeviceBatch(SERIAL, range(4, 4), { held: false })
      expect(reader.count({ device: "FGT-1" })).toBe(4)
    } finally {
      reader.close()
      writer.close()
    }
  })

  it("refuses a store file of schema version 1 (from before the device registry)", () => {
    LogStore.open({ path: storePath() }).close()
    const raw = new DatabaseSync(storePath())
    raw.exec("PRAGMA user_version = 1")
    raw.close()
    expect(() => LogStore.open({ path: storePath() })).toThrow(
      expect.objectContaining({ code: "store-version", message: expect.stringContaining("written by another version of fazlab's store (version 1; this fazlab reads version 5);") })
    )
  })
})
