/**
 * The reads of the log store (`store.query`, `count`, `countByDevice`, `sequenceReport`): which
 * logs match a query's filters, built as SQL that keeps SQLite on the index that answers it.
 *
 * `query()` walks ids (from the newest, or from `afterId` when following new logs) and stops at
 * `limit`, which is cheap unless the filters match only rare, old logs; `count()` with filters
 * other than `device` scans the table. Results are always ordered by `id`, the order logs were
 * stored in (released logs count as stored when they are released). Held logs (of devices not
 * authorized yet) are left out unless a query asks for them (`held`).
 */
import type { SQLInputValue } from "node:sqlite"
import { COLUMNS, type StoredLog, toStoredLog } from "./log-record.ts"
import type { StoreAccess } from "./store-access.ts"
import { StoreError } from "./store-error.ts"

/** Which logs a read sees: visible ones only (default), held ones only, or both. */
export type HeldFilter = "exclude" | "only" | "include"

export interface LogQuery {
  device?: string
  type?: string
  subtype?: string
  level?: string
  /** receivedAt ≥ since (ms since the epoch). */
  since?: number
  /** receivedAt < until (ms since the epoch). */
  until?: number
  /** The syslog header's HOSTNAME (`LogRecordInput.hostname`). */
  hostname?: string
  appName?: string
  msgId?: string
  /** The log's own time (its `logTime`, else `receivedAt`) ≥ timeSince (ms since the epoch). */
  timeSince?: number
  /** The log's own time < timeUntil. */
  timeUntil?: number
  /** Only logs stored after this id: pass the last id seen to follow new logs. */
  afterId?: number
  /** At most this many logs (default 100). */
  limit?: number
  /** By id: "asc" (default) oldest first, "desc" newest first. */
  order?: "asc" | "desc"
  /** Held logs (of devices not authorized yet): left out by default. */
  held?: HeldFilter
}

export type LogCountQuery = Omit<LogQuery, "afterId" | "limit" | "order">

export interface SequenceReport {
  /** Stored logs of the device that carry a sequence number. */
  readonly stored: number
  /** Distinct sequence numbers among them. */
  readonly distinct: number
  /** Extra copies: stored − distinct. */
  readonly duplicated: number
  /** Numbers in [1, maxSent] not stored at all. */
  readonly missing: number
  /** The first (lowest) missing numbers, at most 20. */
  readonly firstMissing: number[]
}

const DEFAULT_LIMIT = 100
const FIRST_MISSING_MAX = 20

export class LogReads {
  readonly #access: StoreAccess

  /** Made by `LogStore.open`; use the store's own methods. */
  constructor(access: StoreAccess) {
    this.#access = access
  }

  /** Logs matching every given filter, ordered by id. */
  query(q: LogQuery): StoredLog[] {
    const limit = q.limit ?? DEFAULT_LIMIT
    checkInteger("limit", limit, 0)
    if (q.afterId !== undefined) checkInteger("afterId", q.afterId, Number.MIN_SAFE_INTEGER)
    // `+device` keeps SQLite off the (device, seq) index here: walking ids (newest first, or
    // from `afterId`) and stopping at `limit` beats collecting and sorting all of a device's logs.
    const where = whereClause(q, false)
    if (q.afterId !== undefined) {
      where.conditions.push("id > ?")
      where.params.push(q.afterId)
    }
    const sql = `SELECT ${COLUMNS} FROM logs${sqlWhere(where.conditions)} ORDER BY id ${q.order === "desc" ? "DESC" : "ASC"} LIMIT ?`
    return this.#access.read(() => this.#access.statement(sql).all(...where.params, limit).map(toStoredLog))
  }

  /** How many logs match every given filter. */
  count(q: LogCountQuery = {}): number {
    // The partial indexes answer a `device` filter, and count alone when no other filter is
    // given; for other filters alone, walking an index would cost a table lookup per row.
    const otherFilters = [q.type, q.subtype, q.level, q.since, q.until, q.hostname, q.appName, q.msgId, q.timeSince, q.timeUntil].some((value) => value !== undefined)
    const where = whereClause(q, q.device !== undefined || !otherFilters)
    const sql = `SELECT count(*) AS n FROM logs${sqlWhere(where.conditions)}`
    return this.#access.read(() => Number(this.#access.statement(sql).get(...where.params)?.["n"] ?? 0))
  }

  /** Stored logs per device, by device name. */
  countByDevice(options: { readonly held?: HeldFilter } = {}): Array<{ device: string; count: number }> {
    const sql = `SELECT device, count(*) AS n FROM logs${sqlWhere(heldCondition(options.held, "held"))} GROUP BY device ORDER BY device`
    return this.#access.read(() =>
      this.#access.statement(sql).all().map((row) => ({ device: String(row["device"]), count: Number(row["n"]) }))
    )
  }

  /**
   * For "none lost, none duplicated" checks: the sequence numbers stored for `device`, against
   * a sender that sent 1..maxSent. Numbers outside [1, maxSent] count as stored, never as missing.
   */
  sequenceReport(device: string, maxSent: number, options: { readonly held?: HeldFilter } = {}): SequenceReport {
    checkInteger("maxSent", maxSent, 0)
    const held = heldCondition(options.held, "held").map((condition) => ` AND ${condition}`).join("")
    return this.#access.read(() => {
      const totals = this.#access.statement(
        `SELECT count(seq) AS stored, count(DISTINCT seq) AS distinctSeq FROM logs WHERE device = ? AND seq IS NOT NULL${held}`
      ).get(device)
      const inRange = this.#access.statement(
        `SELECT count(DISTINCT seq) AS present, max(seq) AS highest FROM logs WHERE device = ? AND seq BETWEEN 1 AND ?${held}`
      ).get(device, maxSent)
      const stored = Number(totals?.["stored"] ?? 0)
      const distinct = Number(totals?.["distinctSeq"] ?? 0)
      const missing = maxSent - Number(inRange?.["present"] ?? 0)
      const firstMissing: number[] = []
      if (missing > 0) {
        // Each row is one run of missing numbers between two stored ones (or before the first).
        const gaps = this.#access.statement(
          `SELECT previous + 1 AS first, seq - 1 AS last FROM (
             SELECT seq, lag(seq, 1, 0) OVER (ORDER BY seq) AS previous
             FROM (SELECT DISTINCT seq FROM logs WHERE device = ? AND seq BETWEEN 1 AND ?${held})
           ) WHERE seq > previous + 1 LIMIT ?`
        ).all(device, maxSent, FIRST_MISSING_MAX)
        const highest = inRange?.["highest"]
        // Numbers above the highest stored one (all of them when none is stored).
        gaps.push({ first: (typeof highest === "number" ? highest : 0) + 1, last: maxSent })
        for (const gap of gaps) {
          for (let n = Number(gap["first"]); n <= Number(gap["last"]) && firstMissing.length < FIRST_MISSING_MAX; n++) {
            firstMissing.push(n)
          }
        }
      }
      return { stored, distinct, duplicated: stored - distinct, missing, firstMissing }
    })
  }
}

function checkInteger(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new StoreError("store-bad-query", `The log query's ${name} must be an integer ≥ ${min}, got ${value}.`)
  }
}

/**
 * The conditions for a read. `indexed` writes `device` and `held` so that SQLite may use the
 * partial indexes; otherwise as `+device` and `+held`, which keeps it on the table.
 */
function whereClause(q: LogCountQuery, indexed: boolean): { conditions: string[]; params: SQLInputValue[] } {
  const conditions = heldCondition(q.held, indexed ? "held" : "+held")
  const params: SQLInputValue[] = []
  const add = (condition: string, value: SQLInputValue): void => {
    conditions.push(condition)
    params.push(value)
  }
  if (q.device !== undefined) add(`${indexed ? "device" : "+device"} = ?`, q.device)
  if (q.type !== undefined) add("type = ?", q.type)
  if (q.subtype !== undefined) add("subtype = ?", q.subtype)
  if (q.level !== undefined) add("level = ?", q.level)
  if (q.since !== undefined) add("received_at >= ?", q.since)
  if (q.until !== undefined) add("received_at < ?", q.until)
  if (q.hostname !== undefined) add("hostname = ?", q.hostname)
  if (q.appName !== undefined) add("app_name = ?", q.appName)
  if (q.msgId !== undefined) add("msg_id = ?", q.msgId)
  if (q.timeSince !== undefined) add("coalesce(log_time, received_at) >= ?", q.timeSince)
  if (q.timeUntil !== undefined) add("coalesce(log_time, received_at) < ?", q.timeUntil)
  return { conditions, params }
}

/** The condition (none or one) that selects logs by `held` (default "exclude"). */
function heldCondition(held: HeldFilter | undefined, column: "held" | "+held"): string[] {
  switch (held ?? "exclude") {
    case "exclude":
      return [`${column} = 0`]
    case "only":
      return [`${column} = 1`]
    case "include":
      return []
  }
}

function sqlWhere(conditions: ReadonlyArray<string>): string {
  return conditions.length === 0 ? "" : ` WHERE ${conditions.join(" AND ")}`
}
