/**
 * The store's HA sync positions (docs/protocols/ha.md, "Catch-up"): logs that are not OFTP
 * records travel with their origin (store uid, id there), are stored once per origin, and a
 * catch-up sends a member exactly what its positions say it lacks.
 */
import { afterEach, describe, expect, it } from "vitest"
import type { LogRecordInput, SyncLog, SyncedLogInput } from "../../src/store/log-record.ts"
import { LogStore } from "../../src/store/log-store.ts"
import { logRecord } from "../support/records.ts"

/** A plain RFC 3164 log from "host" (none of the FortiOS columns), told apart by its text. */
const log = (raw: string, extra: Partial<LogRecordInput> = {}): LogRecordInput =>
  logRecord({ receivedAt: 1, peer: "127.0.0.1:5000", format: "rfc3164", facility: 1, severity: 6, device: "host", logid: null, type: null, subtype: null, level: null, raw, ...extra })

const asSynced = (logs: ReadonlyArray<SyncLog>): SyncedLogInput[] => logs.map(({ id: _id, ...rest }) => rest)
const raws = (store: LogStore): string[] => store.query({ limit: 1000 }).map((l) => l.raw)

describe("LogStore sync positions", () => {
  const stores: LogStore[] = []
  const open = () => {
    const store = LogStore.open({ memory: true })
    stores.push(store)
    return store
  }
  afterEach(() => {
    for (const store of stores.splice(0)) store.close()
  })

  it("append returns the first id; syncPositions starts with the store's own uid at its last id", () => {
    const a = open()
    expect(a.append([log("a1"), log("a2")])).toBe(1)
    expect(a.append([log("a3")])).toBe(3)
    expect(a.append([])).toBe(0)
    expect(a.uid).toMatch(/^[0-9a-f]{16}$/)
    expect(a.syncPositions()).toEqual([{ origin: a.uid, upTo: 3 }])
  })

  it("stores each synced log once, skips its own logs, and sends a member only what it lacks", () => {
    const a = open()
    const b = open()
    a.append([log("a1"), log("a2"), log("a3")])
    // A live copy of a1-a2, then a catch-up from b's positions: only a3 is new, a1-a2 once.
    expect(b.appendSynced(asSynced(a.logsToSync(0, 2, [], 10)))).toBe(2)
    expect(a.logsToSync(0, a.lastId(), b.syncPositions(), 10).map((l) => l.raw)).toEqual(["a3"])
    expect(b.appendSynced(asSynced(a.logsToSync(0, a.lastId(), [], 10)))).toBe(1)
    b.append([log("b1")])
    expect(raws(b)).toEqual(["a1", "a2", "a3", "b1"])
    // Back to a: its own logs are skipped, b1 keeps b's origin.
    const fromB = b.logsToSync(0, b.lastId(), a.syncPositions(), 10)
    expect(fromB.map((l) => [l.raw, l.origin, l.originId])).toEqual([["b1", b.uid, 4]])
    expect(a.appendSynced(asSynced(b.logsToSync(0, b.lastId(), [], 10)))).toBe(1)
    expect(raws(a)).toEqual(["a1", "a2", "a3", "b1"])
    // A third store learns a's logs through b, with a's origin: a does not send them again.
    const c = open()
    c.appendSynced(asSynced(b.logsToSync(0, b.lastId(), [], 10)))
    expect(a.logsToSync(0, a.lastId(), c.syncPositions(), 10)).toEqual([])
  })

  it("leaves OFTP records to their device's lastSeq, and bounds a catch-up by limit and id window", () => {
    const a = open()
    a.devices.seen({ serial: "FGT1", name: "fgt-1", platform: "FortiGate-VM64", version: "v7.4.3", ip: "127.0.0.1", vdoms: ["root"] }, 1)
    a.appendDeviceBatch("FGT1", [log("o1", { seq: 1 }), log("o2", { seq: 2 })] as Array<LogRecordInput & { seq: number }>, { held: false })
    a.append([log("s1", { devid: "FGT1", seq: 5 }), log("s2"), log("s3")])
    expect(a.logsToSync(0, a.lastId(), [], 10).map((l) => l.raw)).toEqual(["s1", "s2", "s3"])
    expect(a.deviceLogsAfter("FGT1", 0, 10).map((l) => l.raw)).toEqual(["o1", "o2"])
    expect(a.logsToSync(0, a.lastId(), [], 2).map((l) => l.raw)).toEqual(["s1", "s2"])
    expect(a.logsToSync(3, 4, [], 10).map((l) => l.raw)).toEqual(["s2"])
  })
})
