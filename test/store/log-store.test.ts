/** The analyzer's log store: filters, paging, persistence, sharing a file across processes, errors. */
import { spawn } from "node:child_process"
import { existsSync, mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { DatabaseSync } from "node:sqlite"
import { fileURLToPath } from "node:url"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { fieldsOfRaw, type LogRecordInput } from "../../src/store/log-record.ts"
import { LogStore } from "../../src/store/log-store.ts"
import { StoreError } from "../../src/store/store-error.ts"
import { logRecord, NO_SYSLOG_HEADER, T0 } from "../support/records.ts"
import { storeModes } from "../support/store.ts"

/** The store's source file, for snippets run in other processes. */
const storeModule = fileURLToPath(new URL("../../src/store/log-store.ts", import.meta.url))

function record(overrides: Partial<LogRecordInput> = {}): LogRecordInput {
  const device = overrides.device ?? "FGT-1"
  const seq = overrides.seq === undefined ? 1 : overrides.seq
  return logRecord({
    device,
    devid: "FGT60FTK20000001",
    eventtime: "1793700000000000000",
    seq,
    raw: `<189>devname="${device}" type="traffic" fazlab_seq=${seq}`,
    fields: { devname: device, type: "traffic", subtype: "forward", level: "notice", fazlab_seq: String(seq) },
    ...overrides
  })
}

/** Ten logs from two devices, varied type, subtype, level and time. */
function mixedBatch(): LogRecordInput[] {
  return Array.from({ length: 10 }, (_, i) =>
    record({
      device: i % 2 === 0 ? "FGT-A" : "FGT-B",
      seq: Math.floor(i / 2) + 1,
      type: i < 6 ? "traffic" : "event",
      subtype: i % 3 === 0 ? "local" : "forward",
      level: i === 9 ? "warning" : "notice",
      receivedAt: T0 + i * 1000
    })
  )
}

const ids = (logs: ReadonlyArray<{ readonly id: number }>): number[] => logs.map((log) => log.id)

const { tempDir, modes } = storeModes("fazlab-store-")

describe.each(modes)("LogStore (%s)", (_mode, open) => {
  let store: LogStore
  beforeEach(() => {
    store = open()
  })
  afterEach(() => {
    store.close()
  })

  it("returns every column as appended, with an increasing id", () => {
    const unicode = record({
      device: "FGT-ü",
      raw: "<14>1 2026-11-03T10:15:42Z host app - - - motörhead ✓",
      format: "rfc5424",
      transport: "tcp",
      devid: null,
      logid: null,
      type: null,
      subtype: null,
      level: null,
      eventtime: null,
      seq: null,
      fields: null
    })
    const fortios = record({ fields: { devname: "FGT-1", msg: 'quoted "text", commas' } })
    store.append([fortios, { ...unicode, hostname: "host", appName: "app", msgId: null, logTime: Date.parse("2026-11-03T10:15:42Z") }])
    const logs = store.query({})
    expect(logs).toEqual([
      // FortiOS' default format: no header, devname stands for the hostname.
      { id: logs[0]?.id, ...fortios, ...NO_SYSLOG_HEADER, hostname: "FGT-1", message: fortios.raw.slice("<189>".length) },
      {
        id: (logs[0]?.id ?? 0) + 1,
        ...unicode,
        ...NO_SYSLOG_HEADER,
        timestamp: "2026-11-03T10:15:42Z",
        time: "2026-11-03T10:15:42.000000Z",
        offset: "+00:00",
        hostname: "host",
        appName: "app",
        message: "motörhead ✓"
      }
    ])
  })

  it("derives fields given as \"from-raw\" from raw when reading", () => {
    const syslog = record({ raw: '<189>devname="FGT-1" msg="a \\"b\\"" fazlab_seq=1\n', fields: "from-raw" })
    const rfc5424 = record({ raw: "<134>1 2026-11-27T05:54:07Z fgt - - - - type=event level=notice", format: "rfc5424", fields: "from-raw" })
    const plain = record({ raw: "<13>Nov 27 05:54:07 host su: no fields here", format: "rfc3164", fields: "from-raw" })
    const oftp = record({ raw: 'devname="FGT-1" type="traffic"', fields: "from-raw" })
    store.append([syslog, rfc5424, plain, oftp])
    expect(store.query({}).map((log) => ({ ...log.fields }))).toEqual([
      { devname: "FGT-1", msg: 'a "b"', fazlab_seq: "1" },
      { type: "event", level: "notice" },
      {},
      { devname: "FGT-1", type: "traffic" }
    ])
    expect(store.query({})[2]?.fields).toBeNull()
  })

  it("filters by device, type, subtype and level, alone and combined", () => {
    store.append(mixedBatch())
    const all = store.query({})
    expect(all).toHaveLength(10)
    expect(store.query({ device: "FGT-A" }).map((log) => log.device)).toEqual(Array(5).fill("FGT-A"))
    expect(ids(store.query({ type: "event" }))).toEqual(ids(all.slice(6)))
    expect(ids(store.query({ subtype: "local" }))).toEqual(ids([all[0]!, all[3]!, all[6]!, all[9]!]))
    expect(ids(store.query({ level: "warning" }))).toEqual([all[9]!.id])
    expect(ids(store.query({ device: "FGT-A", type: "traffic", subtype: "local" }))).toEqual(ids([all[0]!]))
    expect(store.query({ device: "FGT-C" })).toEqual([])
  })

  it("filters by a half-open time range [since, until)", () => {
    store.append(mixedBatch())
    const all = store.query({})
    expect(ids(store.query({ since: T0 + 3000 }))).toEqual(ids(all.slice(3)))
    expect(ids(store.query({ until: T0 + 3000 }))).toEqual(ids(all.slice(0, 3)))
    expect(ids(store.query({ since: T0 + 2000, until: T0 + 5000 }))).toEqual(ids(all.slice(2, 5)))
    expect(ids(store.query({ since: T0 + 2000, until: T0 + 5000, device: "FGT-B" }))).toEqual(ids([all[3]!]))
  })

  it("filters by the syslog header's hostname, app name and msgid, and by the log's own time", () => {
    const syslog = (i: number, overrides: Partial<LogRecordInput>) => record({ seq: i, receivedAt: T0 + i * 1000, ...overrides })
    store.append([
      syslog(1, { hostname: "web-1", appName: "nginx", msgId: "ACCESS", logTime: T0 - 60_000 }),
      syslog(2, { hostname: "web-1", appName: "sshd", msgId: null, logTime: null }),
      syslog(3, { hostname: "db-1", appName: "nginx", msgId: "ACCESS", logTime: T0 + 60_000 }),
      syslog(4, {})
    ])
    const seqs = (q: Parameters<LogStore["query"]>[0]) => store.query(q).map((log) => log.seq)
    expect(seqs({ hostname: "web-1" })).toEqual([1, 2])
    expect(seqs({ appName: "nginx" })).toEqual([1, 3])
    expect(seqs({ msgId: "ACCESS", hostname: "db-1" })).toEqual([3])
    // The log's own time when it has one, else when it was received (T0 + 2000, T0 + 4000).
    expect(seqs({ timeSince: T0 })).toEqual([2, 3, 4])
    expect(seqs({ timeSince: T0, timeUntil: T0 + 3000 })).toEqual([2])
    expect(seqs({ timeUntil: T0 })).toEqual([1])
    expect(store.count({ appName: "nginx", timeSince: T0 })).toBe(1)
  })

  it("keeps a message that is not UTF-8 as its bytes and reads its header from them", () => {
    const bytes = Buffer.concat([Buffer.from("<14>1 2026-11-03T10:15:42.5+01:00 host app 42 ID7 [a@1 k=\"v\"] "), Buffer.from([0x63, 0x61, 0x66, 0xe9])])
    store.append([record({ format: "rfc5424", raw: bytes.toString("utf8"), rawBytes: bytes.toString("base64"), fields: "from-raw", hostname: "host" })])
    const [log] = store.query({ hostname: "host" })
    expect(log).toMatchObject({
      raw: bytes.toString("utf8"),
      rawBytes: bytes.toString("base64"),
      timestamp: "2026-11-03T10:15:42.5+01:00",
      time: "2026-11-03T09:15:42.500000Z",
      offset: "+01:00",
      hostname: "host",
      appName: "app",
      procId: "42",
      msgId: "ID7",
      structuredData: [{ id: "a@1", params: [{ name: "k", value: "v" }] }],
      message: "caf\ufffd",
      messageBytes: Buffer.from([0x63, 0x61, 0x66, 0xe9]).toString("base64"),
      bom: false
    })
    expect(Buffer.from(log?.rawBytes ?? "", "base64").equals(bytes)).toBe(true)
  })

  it("orders by id, newest first on request, and stops at the limit (default 100)", () => {
    store.append(Array.from({ length: 150 }, (_, i) => record({ seq: i + 1 })))
    const oldest = store.query({})
    expect(oldest).toHaveLength(100)
    expect(oldest.map((log) => log.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1))
    expect(store.query({ order: "desc", limit: 3 }).map((log) => log.seq)).toEqual([150, 149, 148])
    expect(store.query({ limit: 0 })).toEqual([])
  })

  it("pages with afterId without skipping or repeating a log, including logs appended between pages", () => {
    store.append(Array.from({ length: 25 }, (_, i) => record({ seq: i + 1 })))
    const seen: number[] = []
    let afterId = 0
    for (let pages = 0; pages < 10; pages++) {
      const page = store.query({ afterId, limit: 10 })
      if (page.length === 0) break
      seen.push(...page.map((log) => log.seq ?? 0))
      afterId = page.at(-1)?.id ?? afterId
      if (seen.length === 20) store.append([record({ seq: 26 }), record({ seq: 27 })])
    }
    expect(seen).toEqual(Array.from({ length: 27 }, (_, i) => i + 1))
    expect(store.query({ afterId, limit: 10 })).toEqual([])
  })

  it("pages with afterId under a device filter", () => {
    store.append(mixedBatch())
    const first = store.query({ device: "FGT-B", limit: 2 })
    const rest = store.query({ device: "FGT-B", afterId: first.at(-1)?.id ?? 0 })
    expect([...first, ...rest].map((log) => log.seq)).toEqual([1, 2, 3, 4, 5])
  })

  it("counts by filter and by device", () => {
    expect(store.count()).toBe(0)
    expect(store.countByDevice()).toEqual([])
    store.append(mixedBatch())
    store.append([record({ device: "FGT-0" })])
    expect(store.count()).toBe(11)
    expect(store.count({ device: "FGT-A" })).toBe(5)
    expect(store.count({ device: "FGT-A", type: "event" })).toBe(2)
    expect(store.count({ since: T0 + 8000 })).toBe(2)
    expect(store.countByDevice()).toEqual([
      { device: "FGT-0", count: 1 },
      { device: "FGT-A", count: 5 },
      { device: "FGT-B", count: 5 }
    ])
  })

  it("stores a batch entirely or not at all", () => {
    store.append([record({ seq: 1 })])
    const broken = { ...record({ seq: 3 }), device: null } as unknown as LogRecordInput
    expect(() => store.append([record({ seq: 2 }), broken])).toThrow(
      expect.objectContaining({ name: "StoreError", code: "store-write-failed" })
    )
    expect(store.query({}).map((log) => log.seq)).toEqual([1])
    store.append([record({ seq: 4 })])
    expect(store.count()).toBe(2)
  })

  it("ignores an empty batch", () => {
    store.append([])
    expect(store.count()).toBe(0)
  })

  it("reports stored, duplicated and missing sequence numbers per device", () => {
    const seqs = [1, 2, 2, 3, 5, 8, 8, 8, 10, 0, 15]
    store.append(seqs.map((seq) => record({ device: "FGT-A", seq })))
    store.append([record({ device: "FGT-A", seq: null }), record({ device: "FGT-B", seq: 4 })])
    expect(store.sequenceReport("FGT-A", 12)).toEqual({
      stored: 11,
      distinct: 8,
      duplicated: 3,
      missing: 6,
      firstMissing: [4, 6, 7, 9, 11, 12]
    })
    expect(store.sequenceReport("FGT-A", 3)).toMatchObject({ missing: 0, firstMissing: [] })
  })

  it("lists at most the first 20 missing numbers", () => {
    store.append([2, 4, 6].map((seq) => record({ seq })))
    const report = store.sequenceReport("FGT-1", 1000)
    expect(report.missing).toBe(997)
    expect(report.firstMissing).toEqual([1, 3, 5, ...Array.from({ length: 17 }, (_, i) => i + 7)])
    expect(store.sequenceReport("FGT-9", 5)).toEqual({ stored: 0, distinct: 0, duplicated: 0, missing: 5, firstMissing: [1, 2, 3, 4, 5] })
    expect(store.sequenceReport("FGT-9", 0)).toEqual({ stored: 0, distinct: 0, duplicated: 0, missing: 0, firstMissing: [] })
  })

  it("rejects out-of-range query values", () => {
    for (const run of [
      () => store.query({ limit: -1 }),
      () => store.query({ limit: 1.5 }),
      () => store.query({ afterId: Number.NaN }),
      () => store.sequenceReport("FGT-1", -1)
    ]) {
      expect(run).toThrow(expect.objectContaining({ code: "store-bad-query" }))
    }
  })

  it("refuses to work after close, and closes only once", () => {
    store.close()
    store.close()
    expect(() => store.append([record()])).toThrow(expect.objectContaining({ code: "store-closed" }))
    expect(() => store.query({})).toThrow(expect.objectContaining({ code: "store-closed" }))
  })
})

describe("LogStore file", () => {
  const storePath = (): string => join(tempDir(), "data", "logs.sqlite")

  it("keeps its logs across close and reopen, and appends after them", () => {
    const first = LogStore.open({ path: storePath() })
    first.append(Array.from({ length: 3000 }, (_, i) => record({ seq: i + 1 })))
    first.close()
    expect(existsSync(`${storePath()}-wal`)).toBe(false)
    const again = LogStore.open({ path: storePath() })
    expect(again.count()).toBe(3000)
    again.append([record({ seq: 3001 })])
    expect(again.sequenceReport("FGT-1", 3001)).toMatchObject({ stored: 3001, duplicated: 0, missing: 0 })
    expect(again.query({ order: "desc", limit: 1 })[0]?.id).toBe(3001)
    again.close()
  })

  it("keeps fields given as \"from-raw\" out of the row and reads rows of both kinds", () => {
    const store = LogStore.open({ path: storePath() })
    store.append([record({ seq: 1, fields: "from-raw" }), record({ seq: 2 })])
    store.close()
    const db = new DatabaseSync(storePath())
    try {
      expect(db.prepare("SELECT fields FROM logs ORDER BY id").all().map((row) => row["fields"])).toEqual([
        "",
        JSON.stringify(record({ seq: 2 }).fields)
      ])
    } finally {
      db.close()
    }
    const again = LogStore.open({ path: storePath() })
    expect(again.query({}).map((log) => ({ ...log.fields }))).toEqual([
      { devname: "FGT-1", type: "traffic", fazlab_seq: "1" },
      record({ seq: 2 }).fields
    ])
    again.close()
  })

  it("is shared with a second connection on the same file while the writer is open", () => {
    const writer = LogStore.open({ path: storePath() })
    writer.append([record({ seq: 1 }), record({ seq: 2 })])
    const reader = LogStore.open({ path: storePath() })
    try {
      expect(reader.query({}).map((log) => log.seq)).toEqual([1, 2])
      const last = reader.query({}).at(-1)?.id ?? 0
      writer.append([record({ seq: 3 })])
      expect(reader.query({ afterId: last }).map((log) => log.seq)).toEqual([3])
    } finally {
      reader.close()
      writer.close()
    }
  })

  it("is readable by another process while the writer is open", async () => {
    const writer = LogStore.open({ path: storePath() })
    try {
      writer.append(Array.from({ length: 500 }, (_, i) => record({ seq: i + 1 })))
      const output = await runNode(
        `import { LogStore } from ${JSON.stringify(storeModule)}
         const store = LogStore.open({ path: ${JSON.stringify(storePath())} })
         console.log(JSON.stringify(store.sequenceReport("FGT-1", 500)))
         store.close()`
      )
      expect(JSON.parse(output[0] ?? "null")).toEqual({ stored: 500, distinct: 500, duplicated: 0, missing: 0, firstMissing: [] })
    } finally {
      writer.close()
    }
  })

  it("keeps every appended batch when its process is killed with SIGKILL", async () => {
    const child = spawn(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import { LogStore } from ${JSON.stringify(storeModule)}
         const store = LogStore.open({ path: ${JSON.stringify(storePath())} })
         const record = ${JSON.stringify(record())}
         for (let batch = 0; batch < 20; batch++) {
           store.append(Array.from({ length: 1000 }, (_, i) => ({ ...record, seq: batch * 1000 + i + 1 })))
         }
         console.log("stored")
         setInterval(() => {}, 1000)`
      ],
      { stdio: ["ignore", "pipe", "inherit"] }
    )
    const exited = new Promise<NodeJS.Signals | null>((done) => child.once("exit", (_code, signal) => done(signal)))
    for await (const line of createInterface({ input: child.stdout })) {
      if (line === "stored") break
    }
    child.kill("SIGKILL")
    expect(await exited).toBe("SIGKILL")
    const store = LogStore.open({ path: storePath() })
    expect(store.sequenceReport("FGT-1", 20_000)).toEqual({ stored: 20_000, distinct: 20_000, duplicated: 0, missing: 0, firstMissing: [] })
    store.close()
  })

  it("rejects a file that is not a SQLite database, naming it", () => {
    mkdirSync(join(tempDir(), "data"))
    writeFileSync(storePath(), "not a database, just text\n".repeat(100))
    expect(catchError(() => LogStore.open({ path: storePath() }))).toMatchObject({
      code: "store-not-a-store",
      message: `${storePath()} is not a fazlab log store (not a SQLite database); move it away or use another --data-dir.`
    })
  })

  it("rejects another program's SQLite database", () => {
    mkdirSync(join(tempDir(), "data"))
    const other = new DatabaseSync(storePath())
    other.exec("CREATE TABLE accounts (id INTEGER PRIMARY KEY)")
    other.close()
    expect(() => LogStore.open({ path: storePath() })).toThrow(expect.objectContaining({ code: "store-not-a-store" }))
  })

  it("adds the syslog header columns to a store of schema version 4, keeping its logs", () => {
    const old = LogStore.open({ path: storePath() })
    old.append([record({ seq: 1 })])
    old.close()
    const raw = new DatabaseSync(storePath())
    for (const column of ["hostname", "app_name", "msg_id", "log_time"]) raw.exec(`ALTER TABLE logs DROP COLUMN ${column}`)
    raw.exec("PRAGMA user_version = 4")
    raw.close()
    const store = LogStore.open({ path: storePath() })
    store.append([record({ seq: 2, hostname: "h" })])
    expect(store.query({}).map((log) => log.seq)).toEqual([1, 2])
    expect(store.query({ hostname: "h" }).map((log) => log.seq)).toEqual([2])
    store.close()
  })

  it("rejects a store made by an unknown store version", () => {
    LogStore.open({ path: storePath() }).close()
    const raw = new DatabaseSync(storePath())
    raw.exec("PRAGMA user_version = 7")
    raw.close()
    const error = catchError(() => LogStore.open({ path: storePath() }))
    expect(error).toBeInstanceOf(StoreError)
    expect(error).toMatchObject({
      code: "store-version",
      message: `${storePath()} was written by another version of fazlab's store (version 7; this fazlab reads version 5); delete ${join(tempDir(), "data")} or use another --data-dir.`
    })
  })

  it("fails clearly when its folder cannot be created", () => {
    writeFileSync(join(tempDir(), "data"), "a file where the folder should be")
    const error = catchError(() => LogStore.open({ path: storePath() }))
    expect(error).toMatchObject({ code: "store-open-failed" })
    expect((error as Error).message).toContain(join(tempDir(), "data"))
  })
})

/** Runs an ES module snippet in a separate Node process and returns its stdout lines. */
async function runNode(source: string): Promise<string[]> {
  const child = spawn(process.execPath, ["--input-type=module", "-e", source], { stdio: ["ignore", "pipe", "inherit"] })
  const lines: string[] = []
  for await (const line of createInterface({ input: child.stdout })) lines.push(line)
  const code = await new Promise<number | null>((done) => {
    if (child.exitCode !== null) done(child.exitCode)
    else child.once("exit", done)
  })
  expect(code).toBe(0)
  return lines
}

function catchError(run: () => unknown): unknown {
  try {
    run()
  } catch (error) {
    return error
  }
  throw new Error("expected an error")
}

describe("fieldsOfRaw", () => {
  it("reads the fields of a syslog message, else of a bare key=value record, else none", () => {
    expect({ ...fieldsOfRaw("<189>devname=a level=notice") }).toEqual({ devname: "a", level: "notice" })
    expect({ ...fieldsOfRaw("<13>Nov 27 05:54:07 host app: devname=a") }).toEqual({ devname: "a" })
    expect({ ...fieldsOfRaw("devname=a type=traffic") }).toEqual({ devname: "a", type: "traffic" })
    expect(fieldsOfRaw("<13>just text")).toBeNull()
    expect(fieldsOfRaw("just text")).toBeNull()
  })
})
