/**
 * The analyzer's syslog intake without sockets: what it stores of a datagram, per sender, and what
 * it rejects; the same with the writer on this thread (a memory store) and on a store thread (a file store).
 */
import type { RemoteInfo } from "node:dgram"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { EventBus } from "../../src/events/bus.ts"
import type { LabEvent } from "../../src/events/events.ts"
import { StoreWriter } from "../../src/devices/fortianalyzer/store-writer.ts"
import { SyslogIntake } from "../../src/devices/fortianalyzer/syslog-intake.ts"
import { LogStore } from "../../src/store/log-store.ts"

const from = (address: string, port: number): RemoteInfo => ({ address, port, family: "IPv4", size: 0 })

describe.each(["this thread", "a store thread"] as const)("SyslogIntake (UDP), stored on %s", (where) => {
  let store: LogStore
  let writer: StoreWriter
  let intake: SyslogIntake
  let dir: string | null = null
  const events: LabEvent[] = []
  beforeEach(() => {
    dir = where === "this thread" ? null : fs.mkdtempSync(path.join(os.tmpdir(), "fazlab-intake-"))
    const file = dir === null ? null : path.join(dir, "logs.sqlite")
    store = LogStore.open(file === null ? { memory: true } : { path: file })
    const bus = new EventBus(() => 0)
    bus.subscribe((event) => events.push(event))
    writer = new StoreWriter({
      store,
      bus,
      analyzer: "faz-1",
      maxFrameBytes: 1024,
      rejected: (r) => intake.reject(r.port, r.peer, r.reason, r.detail),
      partial: (p) => intake.partialLog(p),
      accepted: (count) => {
        intake.received += count
      },
      threadPath: file
    })
    intake = new SyslogIntake({ device: "faz-1", bus, writer, limits: { maxFrameBytes: 1024 } })
    events.length = 0
  })
  afterEach(() => {
    writer.discard()
    writer.close()
    store.close()
    if (dir !== null) fs.rmSync(dir, { recursive: true, force: true })
  })

  it("stores the indexed FortiOS fields, the sender of each datagram and the whole message", () => {
    const line = '<189>date=2026-11-27 devname="fgt-1" devid="FGT60F0000000001" logid="0000000013" type="traffic" subtype="forward" level="notice" eventtime=1795845247123456789 srcip=10.0.0.5 fazlab_seq=7'
    intake.onDatagram(Buffer.from(`${line}\n`), from("127.0.0.2", 5000))
    intake.onDatagram(Buffer.from("<13>Nov 27 05:54:07 host1 su: hello"), from("127.0.0.3", 6000))
    intake.onDatagram(Buffer.from('<14>devname="fgt-1" fazlab_seq=8'), from("127.0.0.2", 5000))
    intake.onDatagram(Buffer.from("<14>no header"), from("127.0.0.2", 5001))
    writer.flush()
    const logs = store.query({})
    expect(logs.map((log) => [log.peer, log.device, log.seq])).toEqual([
      ["127.0.0.2:5000", "fgt-1", 7],
      ["127.0.0.3:6000", "host1", null],
      ["127.0.0.2:5000", "fgt-1", 8],
      ["127.0.0.2:5001", "127.0.0.2", null]
    ])
    expect(logs[0]).toMatchObject({
      transport: "udp",
      format: "fortios",
      facility: 23,
      severity: 5,
      devid: "FGT60F0000000001",
      logid: "0000000013",
      type: "traffic",
      subtype: "forward",
      level: "notice",
      eventtime: "1795845247123456789",
      raw: line
    })
    expect(logs[0]?.fields?.["srcip"]).toBe("10.0.0.5")
    expect(logs[1]).toMatchObject({ format: "rfc3164", fields: null, devid: null, type: null })
    expect(intake.received).toBe(4)
    expect(events.filter((event) => event.type === "logs-stored").map((event) => event.type === "logs-stored" && [event.from, event.count])).toEqual([
      ["fgt-1", 2],
      ["host1", 1],
      ["127.0.0.2", 1]
    ])
  })

  it("stores a cut FortiOS log with its fields, counts it by reason and publishes log-partial", () => {
    intake.onDatagram(Buffer.from('<189>devname="fgt-1" logid="0000000013" type="traffic" msg="cut in the mid'), from("127.0.0.2", 5000))
    writer.flush()
    expect(store.query({})).toMatchObject([{ device: "fgt-1", logid: "0000000013", type: "traffic", damage: { reason: "truncated" } }])
    expect([...intake.partial]).toEqual([["truncated", 1]])
    expect(events.filter((event) => event.type === "log-partial")).toMatchObject([
      { device: "faz-1", port: "udp/514", peer: "127.0.0.2:5000", reason: "truncated", count: 1 }
    ])
  })

  it("counts and publishes what it rejects, and stores none of it", () => {
    intake.onDatagram(Buffer.from("hello"), from("127.0.0.2", 5000))
    intake.onDatagram(Buffer.alloc(2000, 0x61), from("127.0.0.2", 5000))
    writer.flush()
    expect(store.count()).toBe(0)
    expect([...intake.malformed]).toEqual([
      ["bad-pri", 1],
      ["frame-too-large", 1]
    ])
    expect(events.filter((event) => event.type === "log-malformed").map((event) => event.type === "log-malformed" && event.peer)).toEqual([
      "127.0.0.2:5000",
      "127.0.0.2:5000"
    ])
  })
})

describe("SyslogIntake with a store thread that cannot go on", () => {
  it("drops what the thread held with store-failed, says why, and stores later frames on this thread", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fazlab-intake-"))
    // The thread opens this file, which is no SQLite database: it says so and ends.
    const notAStore = path.join(dir, "logs.sqlite")
    fs.writeFileSync(notAStore, "not a database at all, but long enough to be read as one: ".repeat(20))
    const store = LogStore.open({ memory: true })
    const bus = new EventBus(() => 0)
    const events: LabEvent[] = []
    bus.subscribe((event) => events.push(event))
    let received = 0
    const writer = new StoreWriter({
      store,
      bus,
      analyzer: "faz-1",
      maxFrameBytes: 1024,
      rejected: () => undefined,
      partial: () => undefined,
      accepted: (count) => {
        received += count
      },
      threadPath: notAStore
    })
    try {
      const intake = new SyslogIntake({ device: "faz-1", bus, writer, limits: { maxFrameBytes: 1024 } })
      intake.onDatagram(Buffer.from('<14>devname="fgt-1" fazlab_seq=1'), from("127.0.0.2", 5000))
      intake.onDatagram(Buffer.from('<14>devname="fgt-1" fazlab_seq=2'), from("127.0.0.2", 5000))
      expect(writer.flush()).toBe(false)
      const failed = events.filter((event) => event.type === "store-failed")
      expect(failed).toHaveLength(1)
      expect(failed[0]).toMatchObject({ device: "faz-1", dropped: 2 })
      expect(failed[0]?.type === "store-failed" && failed[0].reason).toMatch(/^the store thread ended: .*is not a fazlab log store/)
      expect(store.count()).toBe(0)

      intake.onDatagram(Buffer.from('<14>devname="fgt-1" fazlab_seq=3'), from("127.0.0.2", 5000))
      expect(writer.flush()).toBe(true)
      expect(store.query({}).map((log) => log.seq)).toEqual([3])
      // Received all three; the first two were dropped unstored (as when the store refuses a batch).
      expect(received).toBe(3)
    } finally {
      writer.close()
      store.close()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
