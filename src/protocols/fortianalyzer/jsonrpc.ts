/**
 * FortiAnalyzer's JSON-RPC envelope (`POST /jsonrpc`), as public clients send and read it:
 * parsing a request leniently (captured clients send trailing commas), the status codes and
 * their vendor messages, the two answer shapes (the classic `result` list, and `jsonrpc: "2.0"`
 * with `result` as one object for LogView's apiver 3), and the small languages inside requests:
 * device filters (`["mgmt_mode", "==", "unreg"]`), log filters (`action=deny and srcip=10.0.0.1`)
 * and time ranges (`yyyy-MM-dd HH:mm:ss` or RFC 3339).
 *
 * Pure functions only: the analyzer's handler is `devices/fortianalyzer/jsonrpc-api.ts`.
 */

/** The codes public clients check, with FortiAnalyzer's messages (docs/protocols/jsonrpc.md). */
export const STATUS = {
  ok: { code: 0, message: "OK" },
  runtime: { code: -1, message: "Internal error" },
  exists: { code: -2, message: "Object already exists" },
  missing: { code: -3, message: "Object does not exist" },
  invalidUrl: { code: -6, message: "Invalid url" },
  invalidData: { code: -10, message: "The data is invalid for selected url" },
  noPermission: { code: -11, message: "No permission for the resource" }
} as const

export type Status = (typeof STATUS)[keyof typeof STATUS]

export type Json = string | number | boolean | null | ReadonlyArray<Json> | { readonly [key: string]: Json }
export type JsonObject = { readonly [key: string]: Json }

export const isObject = (value: unknown): value is JsonObject => typeof value === "object" && value !== null && !Array.isArray(value)

/** One element of `params`: the url and whatever else the call carries. */
export interface RpcParams extends JsonObject {
  readonly url: string
}

export interface RpcRequest {
  readonly id: Json
  readonly method: string
  readonly params: ReadonlyArray<RpcParams>
  readonly session: string | null
  /** `jsonrpc: "2.0"`: the answer's `result` is one object (LogView, apiver 3). */
  readonly v2: boolean
  readonly verbose: boolean
}

/** Parses JSON, forgiving trailing commas before `}` or `]` as FortiAnalyzer does. */
export const parseLenient = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch (first) {
    try {
      return JSON.parse(text.replace(/,(\s*[}\]])/gu, "$1"))
    } catch {
      throw first
    }
  }
}

/** A request, or a sentence saying what is wrong with it and what to send instead. */
export const decodeRequest = (value: unknown): RpcRequest | string => {
  if (!isObject(value)) return "the body must be a JSON object {\"id\", \"method\", \"params\": [{\"url\": ...}]}"
  const method = value["method"]
  if (typeof method !== "string") return "the request has no \"method\" (get, set, add, update, delete, exec)"
  const raw = value["params"]
  const list = Array.isArray(raw) ? raw : isObject(raw) ? [raw] : null
  if (list === null || list.length === 0) return "the request has no \"params\" list with at least one {\"url\": ...}"
  const params: RpcParams[] = []
  for (const item of list) {
    if (!isObject(item) || typeof item["url"] !== "string") return "each element of \"params\" must be an object with a \"url\" text"
    params.push(item as RpcParams)
  }
  const session = value["session"]
  return {
    id: value["id"] ?? null,
    method,
    params,
    session: typeof session === "string" && session !== "" ? session : null,
    v2: value["jsonrpc"] === "2.0",
    verbose: value["verbose"] === 1 || value["verbose"] === true
  }
}

/** "/sys/status/" and "sys/status" are the same url. */
export const normalizeUrl = (url: string): string => `/${url.replace(/^\/+|\/+$/gu, "")}`

/** `data` as one object: FortiAnalyzer takes `data: {...}` and `data: [{...}]` alike. */
export const dataObject = (params: JsonObject): JsonObject | null => {
  const data = params["data"]
  if (isObject(data)) return data
  if (Array.isArray(data) && data.length === 1 && isObject(data[0])) return data[0]
  return null
}

// ---------------------------------------------------------------------------------------------
// Device filters: ["field", "==", value], [[...], "&&", [...]]
// ---------------------------------------------------------------------------------------------

const compare = (actual: Json | undefined, op: string, expected: Json | undefined): boolean | null => {
  const a = actual === undefined ? null : actual
  const b = expected === undefined ? null : expected
  switch (op) {
    case "==":
      return String(a) === String(b)
    case "!=":
      return String(a) !== String(b)
    case "like":
      return typeof b === "string" && new RegExp(`^${b.replace(/[.*+?^${}()|[\]\\]/gu, "\\$&").replace(/%/gu, ".*")}$`, "iu").test(String(a))
    case "in":
      return Array.isArray(b) && b.some((value) => String(value) === String(a))
    default:
      return null
  }
}

/** Whether `object` passes `filter`; null when the filter is not one fazlab reads. */
export const matchesFilter = (object: JsonObject, filter: Json): boolean | null => {
  if (!Array.isArray(filter)) return null
  if (filter.length === 0) return true
  if (typeof filter[0] === "string" && typeof filter[1] === "string" && filter.length >= 3) {
    return compare(object[filter[0]], filter[1], filter.length === 3 ? filter[2] : filter.slice(2))
  }
  // [cond, "&&", cond, "||", cond ...], evaluated left to right.
  let result: boolean | null = null
  let joiner = "&&"
  for (const part of filter) {
    if (part === "&&" || part === "||") {
      joiner = part
      continue
    }
    const value = matchesFilter(object, part)
    if (value === null) return null
    result = result === null ? value : joiner === "&&" ? result && value : result || value
  }
  return result
}

// ---------------------------------------------------------------------------------------------
// Log filters and time ranges (LogView)
// ---------------------------------------------------------------------------------------------

export interface LogCondition {
  readonly field: string
  readonly negate: boolean
  readonly value: string
}

/**
 * `srcip=10.0.0.1 and action!=deny`: conditions that must all hold; values may be quoted. Returns
 * null for what fazlab does not read (`or`, parentheses, ranges).
 */
export const parseLogFilter = (text: string): ReadonlyArray<LogCondition> | null => {
  const trimmed = text.trim()
  if (trimmed === "") return []
  const conditions: LogCondition[] = []
  for (const part of trimmed.split(/\s+and\s+|\s*&&\s*/iu)) {
    const match = /^([A-Za-z0-9_.-]+)\s*(==|=|!=)\s*(?:"([^"]*)"|'([^']*)'|(\S+))$/u.exec(part.trim())
    if (match === null) return null
    conditions.push({ field: match[1] ?? "", negate: match[2] === "!=", value: match[3] ?? match[4] ?? match[5] ?? "" })
  }
  return conditions
}

const localTime = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/u

/** "2026-12-05 08:00:00" (UTC) or RFC 3339 → ms since the epoch; null when neither. */
export const parseTime = (text: string): number | null => {
  const local = localTime.exec(text.trim())
  if (local !== null) {
    const [, y, mo, d, h, mi, s] = local.map(Number)
    return Date.UTC(y ?? 0, (mo ?? 1) - 1, d ?? 1, h ?? 0, mi ?? 0, s ?? 0)
  }
  if (!/^\d{4}-\d{2}-\d{2}T/u.test(text)) return null
  const ms = Date.parse(text)
  return Number.isNaN(ms) ? null : ms
}
