/**
 * Reads one analyzer's stored logs for the `logs` command (and for `fazlab logs` on a stopped
 * lab's store, so both filter alike): the newest logs, or those stored after a cursor, with the
 * cursor to continue from.
 *
 * Every read is bounded: at most `limit` logs are returned and, with a `text` filter (which the
 * store cannot index), at most `TEXT_SCAN_ROWS` logs matching the other filters are looked at;
 * the cursor then stands after the last one looked at, so following never reads a log twice.
 * A cursor of another analyzer (the HA primary changed) continues by time received: the new
 * primary holds copies of the same logs under its own ids. When `limit` cuts a read of the newest
 * logs, the answer says how many more match (`beyondLimit`), so `fazlab logs` can say so.
 */
import type { LogQuery } from "../store/log-queries.ts"
import type { StoredLog } from "../store/log-record.ts"
import type { LogCursor, LogsCommand } from "./protocol.ts"
import type { ControlLogStore } from "./target.ts"

/** Logs looked at, at most, to answer one query with a `text` filter. */
export const TEXT_SCAN_ROWS = 5000

/** Logs read from the store at a time while scanning for `text`. */
const SCAN_PAGE = 1000

/** The newest `limit` logs when a query gives none. */
const DEFAULT_LOGS_LIMIT = 100

/** Matching logs a read of the newest ones left out because of its limit. */
export interface BeyondLimit {
  readonly count: number
  /** With a `text` filter only the newest TEXT_SCAN_ROWS logs were looked at: at least `count` more match. */
  readonly atLeast: boolean
}

export interface LogsAnswer {
  readonly analyzer: string
  readonly logs: ReadonlyArray<StoredLog>
  readonly cursor: LogCursor
  readonly more: boolean
  /** Present when `limit` cut a read of the newest logs (no cursor). */
  readonly beyondLimit?: BeyondLimit
}

export type LogsFilter = Omit<LogsCommand, "name">

/** Reads `store` (analyzer `analyzer`) as `filter` asks. The store's own errors are thrown. */
export const readLogs = (analyzer: string, store: ControlLogStore, filter: LogsFilter): LogsAnswer => {
  const limit = filter.limit ?? DEFAULT_LOGS_LIMIT
  const base: LogQuery = {
    ...(filter.device === undefined ? {} : { device: filter.device }),
    ...(filter.type === undefined ? {} : { type: filter.type }),
    ...(filter.level === undefined ? {} : { level: filter.level }),
    ...(filter.hostname === undefined ? {} : { hostname: filter.hostname }),
    ...(filter.appName === undefined ? {} : { appName: filter.appName }),
    ...(filter.msgId === undefined ? {} : { msgId: filter.msgId }),
    ...(filter.since === undefined ? {} : { timeSince: filter.since }),
    ...(filter.until === undefined ? {} : { timeUntil: filter.until })
  }
  const needle = filter.text?.toLowerCase()
  const matches = (log: StoredLog) => needle === undefined || log.raw.toLowerCase().includes(needle)
  // Where the store stands now: the cursor of a read that saw everything.
  const newest = store.query({ limit: 1, order: "desc" })[0]
  const head: LogCursor = { analyzer, id: newest?.id ?? 0, receivedAt: newest?.receivedAt ?? 0 }
  const after = filter.after
  const from: LogQuery = after === undefined ? {} : after.analyzer === analyzer ? { afterId: after.id } : { since: after.receivedAt }

  if (after === undefined || filter.latest === true) {
    // The newest matching logs (since the cursor, when there is one), oldest first.
    const rows = store.query({ ...base, ...from, limit: needle === undefined ? limit : TEXT_SCAN_ROWS, order: "desc" })
    const matching = rows.filter(matches)
    const logs = matching.slice(0, limit).reverse()
    // Counted only when the limit was reached, and only without a cursor (count has no afterId).
    const beyond: BeyondLimit | null = logs.length < limit || after !== undefined ? null
      : needle === undefined ? { count: store.count(base) - logs.length, atLeast: false }
      : { count: matching.length - logs.length, atLeast: rows.length === TEXT_SCAN_ROWS }
    return { analyzer, logs, cursor: head, more: false, ...(beyond === null || beyond.count <= 0 ? {} : { beyondLimit: beyond }) }
  }

  const logs: StoredLog[] = []
  let position = from
  let scanned = 0
  let last: StoredLog | undefined
  let exhausted = false
  while (logs.length < limit && scanned < TEXT_SCAN_ROWS) {
    const wanted = needle === undefined ? limit - logs.length : Math.min(SCAN_PAGE, TEXT_SCAN_ROWS - scanned)
    const page = store.query({ ...base, ...position, limit: wanted, order: "asc" })
    let read = 0
    for (const row of page) {
      read++
      last = row
      if (matches(row)) logs.push(row)
      if (logs.length === limit) break
    }
    scanned += read
    if (page.length < wanted && read === page.length) {
      exhausted = true
      break
    }
    position = { afterId: (last as StoredLog).id }
  }
  return exhausted || last === undefined
    ? { analyzer, logs, cursor: head, more: false }
    : { analyzer, logs, cursor: { analyzer, id: last.id, receivedAt: last.receivedAt }, more: true }
}
