/**
 * The analyzer's built-in report layouts: what a report says about the logs its store holds for
 * a period and a set of devices. fazlab's own two, small and exact (FortiAnalyzer's templates
 * run SQL datasets over its own database; these count the lab's stored logs):
 *
 * - `traffic-summary` ("Traffic Summary"): logs per device and per type and subtype (every
 *   log), then over the traffic logs the top sources and destinations (`srcip`, `dstip`: logs and
 *   `sentbyte` + `rcvdbyte`) and the actions (`action`).
 * - `event-summary` ("Event Summary"): event logs per device, per subtype and per level, and the
 *   most frequent events (`logdesc`, else `msg`).
 *
 * Both end with the top users of their logs (`user`, FortiOS's identity field; `N/A` is no user):
 * `usersTable` builds it, with each user's groups when the schedule's `ldap-query` asked the
 * directory for them (`reports.ts`).
 *
 * Counts per device, type and subtype are the store's exact counts; the tallies over fields read
 * at most `MAX_SUMMARISED` logs per device (a report says so when it stopped there).
 */
import type { LogQuery } from "../../store/log-queries.ts"
import type { StoredLog } from "../../store/log-record.ts"
import type { LogStore } from "../../store/log-store.ts"
import type { ReportTable } from "./report-render.ts"

export const LAYOUTS = ["traffic-summary", "event-summary"] as const
export type LayoutName = (typeof LAYOUTS)[number]

export const LAYOUT_TITLES: Readonly<Record<LayoutName, string>> = { "traffic-summary": "Traffic Summary", "event-summary": "Event Summary" }

/** Logs of one device whose fields a report tallies. */
export const MAX_SUMMARISED = 100_000
/** Rows of a "top" table. */
const TOP = 10

/** Which logs a report covers: `[start, end)` (epoch ms) on the analyzer's time (`faz`: when it received them) or the device's (`dev`: the log's own time). */
export interface ReportScope {
  readonly devices: ReadonlyArray<string>
  readonly start: number
  readonly end: number
  readonly periodOpt: "faz" | "dev"
}

export interface LayoutResult {
  readonly tables: ReadonlyArray<ReportTable>
  /** The top users of its logs and their log counts, most first (the "Top users" table is `usersTable` of them). */
  readonly users: ReadonlyArray<readonly [user: string, logs: number]>
  /** Stored logs the report covers. */
  readonly logs: number
  /** A sentence when some logs were counted but not tallied (over `MAX_SUMMARISED`). */
  readonly truncated: string | null
}

const timeFilter = (scope: ReportScope): Pick<LogQuery, "since" | "until" | "timeSince" | "timeUntil"> =>
  scope.periodOpt === "faz" ? { since: scope.start, until: scope.end } : { timeSince: scope.start, timeUntil: scope.end }

/** Counts by key, most first (ties by key), as table rows. */
const ranked = (tally: ReadonlyMap<string, number>, limit = Number.POSITIVE_INFINITY): ReadonlyArray<ReadonlyArray<string>> =>
  [...tally].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, limit).map(([key, n]) => [...key.split("\u0000"), String(n)])

const add = (tally: Map<string, number>, key: string, n = 1): void => {
  tally.set(key, (tally.get(key) ?? 0) + n)
}

/** The top users of `logs`: FortiOS's `user` field, where it names one. */
const topUsers = (logs: ReadonlyArray<StoredLog>): ReadonlyArray<readonly [string, number]> => {
  const users = new Map<string, number>()
  for (const log of logs) {
    const user = log.fields?.["user"]
    if (user !== undefined && user !== "" && user !== "N/A") add(users, user)
  }
  return ranked(users, TOP).map(([user = "", n = "0"]) => [user, Number(n)] as const)
}

/**
 * The "Top users" table: each user's logs, and with `groups` (the directory's answer per user:
 * its groups, or why there is none) a column of them.
 */
export const usersTable = (users: LayoutResult["users"], groups: ReadonlyMap<string, string> | null): ReportTable => ({
  title: `Top ${TOP} users`,
  columns: groups === null ? ["User", "Logs"] : ["User", "Logs", "LDAP groups"],
  rows: users.map(([user, logs]) => (groups === null ? [user, String(logs)] : [user, String(logs), groups.get(user) ?? "-"]))
})

const bytesOf = (log: StoredLog): number => (Number(log.fields?.["sentbyte"] ?? 0) || 0) + (Number(log.fields?.["rcvdbyte"] ?? 0) || 0)

interface Reading {
  readonly perDevice: ReadonlyArray<ReadonlyArray<string>>
  readonly logs: ReadonlyArray<StoredLog>
  readonly total: number
  readonly truncated: string | null
}

/** The scope's logs of `type` (every type when undefined): exact counts per device, and the logs to tally. */
const read = (store: LogStore, scope: ReportScope, type: string | undefined): Reading => {
  const time = timeFilter(scope)
  const perDevice: Array<ReadonlyArray<string>> = []
  const logs: Array<StoredLog> = []
  const cut: Array<string> = []
  let total = 0
  for (const device of scope.devices) {
    const filter = { device, ...time, ...(type === undefined ? {} : { type }) }
    const count = store.count(filter)
    if (count === 0) continue
    total += count
    perDevice.push([device, String(count)])
    logs.push(...store.query({ ...filter, limit: MAX_SUMMARISED }))
    if (count > MAX_SUMMARISED) cut.push(`${device} (${MAX_SUMMARISED} of ${count})`)
  }
  perDevice.sort((a, b) => Number(b[1]) - Number(a[1]) || String(a[0]).localeCompare(String(b[0])))
  return { perDevice, logs, total, truncated: cut.length === 0 ? null : `the field tallies read the first logs of ${cut.join(", ")}` }
}

const trafficSummary = (store: LogStore, scope: ReportScope): LayoutResult => {
  const all = read(store, scope, undefined)
  const types = new Map<string, number>()
  for (const log of all.logs) add(types, `${log.type ?? "-"}\u0000${log.subtype ?? "-"}`)
  const sources = new Map<string, number>()
  const sourceBytes = new Map<string, number>()
  const destinations = new Map<string, number>()
  const destinationBytes = new Map<string, number>()
  const actions = new Map<string, number>()
  for (const log of all.logs) {
    if (log.type !== "traffic") continue
    const source = log.fields?.["srcip"] ?? "-"
    const destination = log.fields?.["dstip"] ?? "-"
    add(sources, source)
    add(sourceBytes, source, bytesOf(log))
    add(destinations, destination)
    add(destinationBytes, destination, bytesOf(log))
    add(actions, log.fields?.["action"] ?? "-")
  }
  const withBytes = (tally: ReadonlyMap<string, number>, bytes: ReadonlyMap<string, number>) => ranked(tally, TOP).map(([key = "", n = "0"]) => [key, n, String(bytes.get(key) ?? 0)])
  return {
    logs: all.total,
    truncated: all.truncated,
    users: topUsers(all.logs),
    tables: [
      { title: "Logs per device", columns: ["Device", "Logs"], rows: all.perDevice },
      { title: "Logs per type and subtype", columns: ["Type", "Subtype", "Logs"], rows: ranked(types) },
      { title: `Top ${TOP} sources (traffic)`, columns: ["Source", "Logs", "Bytes"], rows: withBytes(sources, sourceBytes) },
      { title: `Top ${TOP} destinations (traffic)`, columns: ["Destination", "Logs", "Bytes"], rows: withBytes(destinations, destinationBytes) },
      { title: "Actions (traffic)", columns: ["Action", "Logs"], rows: ranked(actions) }
    ]
  }
}

const eventSummary = (store: LogStore, scope: ReportScope): LayoutResult => {
  const events = read(store, scope, "event")
  const subtypes = new Map<string, number>()
  const levels = new Map<string, number>()
  const descriptions = new Map<string, number>()
  for (const log of events.logs) {
    add(subtypes, log.subtype ?? "-")
    add(levels, log.level ?? "-")
    add(descriptions, log.fields?.["logdesc"] ?? log.fields?.["msg"] ?? "-")
  }
  return {
    logs: events.total,
    truncated: events.truncated,
    users: topUsers(events.logs),
    tables: [
      { title: "Event logs per device", columns: ["Device", "Logs"], rows: events.perDevice },
      { title: "Event logs per subtype", columns: ["Subtype", "Logs"], rows: ranked(subtypes) },
      { title: "Event logs per level", columns: ["Level", "Logs"], rows: ranked(levels) },
      { title: `Top ${TOP} events`, columns: ["Event", "Logs"], rows: ranked(descriptions, TOP) }
    ]
  }
}

/** Runs `layout` over the store for `scope`. */
export const runLayout = (layout: LayoutName, store: LogStore, scope: ReportScope): LayoutResult =>
  layout === "traffic-summary" ? trafficSummary(store, scope) : eventSummary(store, scope)
