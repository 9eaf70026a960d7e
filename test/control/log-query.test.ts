/**
 * How `logs` reads a store (src/control/log-query.ts), on a memory store: the newest logs,
 * filters (text in any case), following by cursor without repeating or skipping a log, a text
 * search bounded by TEXT_SCAN_ROWS that still moves the cursor on, `latest`, and a cursor of
 * another analyzer continued by time received.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { readLogs, TEXT_SCAN_ROWS } from "../../src/control/log-query.ts"
import type { LogRecordInput } from "../../src/store/log-record.ts"
import { LogStore } from "../../src/store/log-store.ts"
import { logRecord, T0 } from "../support/records.ts"

const record = (n: number, overrides: Partial<LogRecordInput> = {}): LogRecordInput =>
  logRecord({ receivedAt: T0 + n, seq: n, raw: `devname="fgt-1" action="accept" n=${n}`, ...overrides })

const ns = (logs: ReadonlyArray<{ readonly seq: number | null }>) => logs.map((log) => log.seq)

describe("readLogs", () => {
  let store: LogStore
  beforeEach(() => {
    store = LogStore.open({ memory: true })
  })
  afterEach(() => store.close())

  it("answers the newest logs oldest first, filtered by device, type, level and text in any case", () => {
    store.append([
      record(1),
      record(2, { device: "fgt-2" }),
      record(3, { level: "warning", raw: 'devname="fgt-1" action="DENY"' }),
      record(4, { type: "event", subtype: "system", level: "warning", raw: "admin login failed" }),
      record(5)
    ])
    expect(ns(readLogs("faz-1", store, { limit: 3 }).logs)).toEqual([3, 4, 5])
    expect(ns(readLogs("faz-1", store, { device: "fgt-2" }).logs)).toEqual([2])
    expect(ns(readLogs("faz-1", store, { level: "warning" }).logs)).toEqual([3, 4])
    expect(ns(readLogs("faz-1", store, { type: "traffic", level: "warning", text: "deny" }).logs)).toEqual([3])
    expect(ns(readLogs("faz-1", store, { text: "Login" }).logs)).toEqual([4])
    expect(readLogs("faz-1", store, {})).toMatchObject({ analyzer: "faz-1", cursor: { analyzer: "faz-1", id: 5, receivedAt: T0 + 5 }, more: false })
  })

  it("follows by cursor: each new log once, in order, pages with more", () => {
    store.append([record(1), record(2)])
    let answer = readLogs("faz-1", store, { limit: 10 })
    expect(ns(answer.logs)).toEqual([1, 2])
    store.append(Array.from({ length: 25 }, (_, i) => record(3 + i)))
    const seen: Array<number | null> = []
    for (let i = 0; i < 10; i++) {
      answer = readLogs("faz-1", store, { limit: 10, after: answer.cursor })
      seen.push(...ns(answer.logs))
      if (!answer.more) break
    }
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => 3 + i))
    expect(answer.more).toBe(false)
    expect(readLogs("faz-1", store, { limit: 10, after: answer.cursor }).logs).toEqual([])
  })

  it("moves the cursor past logs a filter leaves out, so they are never read again", () => {
    let answer = readLogs("faz-1", store, { device: "fgt-2" })
    expect(answer.cursor.id).toBe(0)
    store.append([record(1), record(2), record(3, { device: "fgt-2" }), record(4)])
    answer = readLogs("faz-1", store, { device: "fgt-2", after: answer.cursor })
    expect(ns(answer.logs)).toEqual([3])
    expect(answer.cursor.id).toBe(4)
  })

  it("looks at no more than TEXT_SCAN_ROWS logs per answer for a text, and says there is more", () => {
    let answer = readLogs("faz-1", store, {})
    const total = TEXT_SCAN_ROWS * 2 + 10
    store.append(Array.from({ length: total }, (_, i) => record(i + 1, i + 1 === total ? { raw: "the needle" } : {})))
    answer = readLogs("faz-1", store, { text: "needle", after: answer.cursor })
    expect(answer).toMatchObject({ logs: [], more: true, cursor: { id: TEXT_SCAN_ROWS } })
    answer = readLogs("faz-1", store, { text: "needle", after: answer.cursor })
    expect(answer).toMatchObject({ logs: [], more: true, cursor: { id: TEXT_SCAN_ROWS * 2 } })
    answer = readLogs("faz-1", store, { text: "needle", after: answer.cursor })
    expect(ns(answer.logs)).toEqual([total])
    expect(answer.more).toBe(false)
    // The newest logs with a text: found among the newest TEXT_SCAN_ROWS.
    expect(ns(readLogs("faz-1", store, { text: "NEEDLE" }).logs)).toEqual([total])
  })

  it("with latest, answers only the newest of the logs stored since the cursor", () => {
    const first = readLogs("faz-1", store, {})
    store.append(Array.from({ length: 50 }, (_, i) => record(i + 1)))
    const answer = readLogs("faz-1", store, { limit: 5, latest: true, after: first.cursor })
    expect(ns(answer.logs)).toEqual([46, 47, 48, 49, 50])
    expect(answer).toMatchObject({ more: false, cursor: { id: 50 } })
  })

  it("continues another analyzer's cursor by time received (an HA copy has its own ids)", () => {
    store.append([record(1), record(2), record(3), record(4)])
    const answer = readLogs("faz-b", store, { after: { analyzer: "faz-a", id: 900, receivedAt: T0 + 3 } })
    expect(answer.analyzer).toBe("faz-b")
    expect(ns(answer.logs)).toEqual([3, 4])
    expect(answer.cursor).toEqual({ analyzer: "faz-b", id: 4, receivedAt: T0 + 4 })
  })
})
