/**
 * LogView's log searches, as the JSON-RPC API runs them (`add /logview/adom/{adom}/logsearch` →
 * `tid`; `get .../logsearch/{tid}` with `limit`/`offset`; `get .../logsearch/count/{tid}`;
 * `delete .../logsearch/{tid}`), over the analyzer's store.
 *
 * A search is run in full when it is added (the store is local and indexed), so its first `get`
 * already answers `percentage: 100`; it keeps at most `MAX_MATCHES` matches. Searches are kept
 * until deleted, at most `MAX_SEARCHES` at once (the oldest goes first), and for `SEARCH_TTL_MS`
 * of lab time, as a real unit reaps its task ids some time after they finish.
 */
import type { StoredLog } from "../../store/log-record.ts"
import { isObject, type Json, type JsonObject, type LogCondition, parseLogFilter, parseTime } from "../../protocols/fortianalyzer/jsonrpc.ts"
import type { AnalyzerView } from "./system-view.ts"

/** Matches kept per search. */
export const MAX_MATCHES = 100_000
/** Searches kept at once per analyzer. */
export const MAX_SEARCHES = 64
/** Lab time a search is kept after it was added. */
export const SEARCH_TTL_MS = 30 * 60 * 1000
/** Largest `limit` of one `get` (FortiAnalyzer's own). */
export const MAX_LIMIT = 1000

/** LogView log types and how the store files them (type, and subtype for UTM logs). */
const LOG_TYPES: Readonly<Record<string, { readonly type: string; readonly subtype?: string }>> = {
  traffic: { type: "traffic" },
  event: { type: "event" },
  attack: { type: "utm", subtype: "ips" },
  virus: { type: "utm", subtype: "virus" },
  webfilter: { type: "utm", subtype: "webfilter" },
  "app-ctrl": { type: "utm", subtype: "app-ctrl" }
}

interface Search {
  readonly tid: number
  readonly adom: string
  readonly matches: ReadonlyArray<StoredLog>
  readonly scanned: number
  readonly addedAt: number
}

/** A log as LogView returns it: its FortiOS fields, with `itime`, `devid`, `devname` and `id`. */
const record = (log: StoredLog): JsonObject => ({
  ...(log.fields ?? { msg: log.raw }),
  id: String(log.id),
  itime: String(Math.floor(log.receivedAt / 1000)),
  devid: log.devid ?? log.fields?.["devid"] ?? "",
  devname: log.device
})

const passes = (log: StoredLog, conditions: ReadonlyArray<LogCondition>): boolean =>
  conditions.every((condition) => {
    const actual = condition.field === "devname" ? log.device : log.fields?.[condition.field] ?? (condition.field === "devid" ? log.devid : undefined)
    return (actual === condition.value) !== condition.negate
  })

export class LogSearches {
  readonly #view: AnalyzerView
  readonly #now: () => number
  readonly #searches = new Map<number, Search>()
  #nextTid = 1

  constructor(view: AnalyzerView, now: () => number) {
    this.#view = view
    this.#now = now
  }

  /** Runs a search; its tid, or a sentence saying what in the request is wrong. */
  add(adom: string, params: JsonObject): { readonly tid: number } | { readonly invalid: string } {
    this.#reap()
    const logtype = typeof params["logtype"] === "string" ? params["logtype"] : "traffic"
    const kind = LOG_TYPES[logtype]
    if (kind === undefined) return { invalid: `logtype ${logtype} is not one fazlab stores; use ${Object.keys(LOG_TYPES).join(", ")}` }
    const devices = this.#devices(params["device"])
    if (typeof devices === "string") return { invalid: devices }
    const range = params["time-range"]
    let since: number | undefined
    let until: number | undefined
    if (range !== undefined && range !== null) {
      const start = isObject(range) ? range["start"] : undefined
      const end = isObject(range) ? range["end"] : undefined
      since = typeof start === "string" ? parseTime(start) ?? Number.NaN : undefined
      until = typeof end === "string" ? parseTime(end) ?? Number.NaN : undefined
      if (Number.isNaN(since) || Number.isNaN(until)) return { invalid: "time-range needs {\"start\", \"end\"} as \"yyyy-MM-dd HH:mm:ss\" or RFC 3339" }
    }
    const filter = typeof params["filter"] === "string" ? parseLogFilter(params["filter"]) : []
    if (filter === null) return { invalid: "fazlab reads filters of field=value, field!=value joined by and; drop or, parentheses and ranges" }
    const order = params["time-order"] === "asc" ? "asc" : "desc"
    const names = devices ?? [undefined]
    const found: StoredLog[] = []
    let scanned = 0
    for (const device of names) {
      const logs = this.#view.store.query({
        ...(device === undefined ? {} : { device }),
        type: kind.type,
        ...(kind.subtype === undefined ? {} : { subtype: kind.subtype }),
        ...(since === undefined ? {} : { since }),
        ...(until === undefined ? {} : { until: until + 1000 }),
        limit: MAX_MATCHES,
        order
      })
      scanned += logs.length
      for (const log of logs) if (found.length < MAX_MATCHES && passes(log, filter)) found.push(log)
    }
    if (names.length > 1) found.sort((a, b) => (order === "asc" ? a.id - b.id : b.id - a.id))
    while (this.#searches.size >= MAX_SEARCHES) {
      const oldest = this.#searches.keys().next().value
      if (oldest === undefined) break
      this.#searches.delete(oldest)
    }
    const tid = this.#nextTid++
    this.#searches.set(tid, { tid, adom, matches: found, scanned, addedAt: this.#now() })
    return { tid }
  }

  /** The device names a `device` list names; undefined for every device; a sentence when one is unknown. */
  #devices(value: Json | undefined): ReadonlyArray<string> | undefined | string {
    if (value === undefined || value === null) return undefined
    if (!Array.isArray(value)) return "device must be a list such as [{\"devid\": \"FGVM010000000001\"}] or [{\"devid\": \"All_FortiGate\"}]"
    const registered = this.#view.store.devices.list()
    const names: string[] = []
    for (const item of value) {
      if (!isObject(item)) return "each device must be {\"devid\": ...} or {\"devname\": ...}"
      const entry = item
      const devid = typeof entry["devid"] === "string" ? entry["devid"].replace(/\[.*\]$/u, "") : null
      const devname = typeof entry["devname"] === "string" ? entry["devname"].replace(/\[.*\]$/u, "") : null
      if (devid === "All_FortiGate" || devid === "All_Devices" || devname === "All_FortiGate" || devname === "All_Devices") return undefined
      if (devid !== null) {
        const device = registered.find((d) => d.serial === devid)
        if (device === undefined) return `no device with devid ${devid} is registered; see get /dvmdb/device`
        names.push(device.name)
      } else if (devname !== null) names.push(devname)
      else return "each device must be {\"devid\": ...} or {\"devname\": ...}"
    }
    return names
  }

  /** A page of a search's matches; undefined for an unknown (or reaped) tid. */
  page(tid: number, offset: number, limit: number): JsonObject | undefined {
    this.#reap()
    const search = this.#searches.get(tid)
    if (search === undefined) return undefined
    const data = search.matches.slice(offset, offset + Math.min(limit, MAX_LIMIT)).map(record)
    return { tid, percentage: 100, "return-lines": data.length, "total-count": search.matches.length, data }
  }

  count(tid: number): JsonObject | undefined {
    this.#reap()
    const search = this.#searches.get(tid)
    if (search === undefined) return undefined
    return { tid, "progress-percent": 100, "matched-logs": search.matches.length, "scanned-logs": search.scanned, "total-logs": search.scanned }
  }

  delete(tid: number): boolean {
    return this.#searches.delete(tid)
  }

  #reap(): void {
    const now = this.#now()
    for (const [tid, search] of this.#searches) if (now - search.addedAt > SEARCH_TTL_MS) this.#searches.delete(tid)
  }
}
