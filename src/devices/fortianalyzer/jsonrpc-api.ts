/**
 * The analyzer's JSON-RPC API (`POST /jsonrpc` on TCP/443) as FortiAnalyzer 7.x answers it:
 * sessions (`exec sys/login/user` → top-level `session`, expiring after `idle-timeout-api` of
 * lab time unused, at most `login-max` per user, `exec sys/logout`), API users with
 * `Authorization: Bearer <api-key>`, `rpc-permit` (read users may only read and search),
 * system and HA status, the admin users, the device manager (`/dvmdb/...`, authorizing and
 * deleting devices as `fazlab ctl` does, tasks), LogView (log searches, logstats,
 * logfiles/state) and reports (`/report/adom/{adom}/run`, its state, `reports/data` as a base64
 * zip: `reports.ts`).
 *
 * Every request gets an answer in the envelope public clients read, never an exception: a bad
 * body is -10 with a `detail` sentence, an unknown url -6, a missing object -3, an existing one
 * -2, no permission or an expired session -11. Over `api-rate` requests per second from one
 * address the answer is HTTP 429. What is and is not emulated: docs/protocols/jsonrpc.md.
 */
import * as crypto from "node:crypto"
import * as Effect from "effect/Effect"
import { zipSync } from "fflate"
import type { EventBus } from "../../events/bus.ts"
import type { LabClock } from "../../machines/clock.ts"
import {
  dataObject,
  decodeRequest,
  isObject,
  type Json,
  type JsonObject,
  matchesFilter,
  normalizeUrl,
  parseLenient,
  type RpcParams,
  type RpcRequest,
  STATUS,
  type Status
} from "../../protocols/fortianalyzer/jsonrpc.ts"
import type { RegisteredDevice } from "../../store/device-registry.ts"
import type { AdminUserSettings } from "./admin.ts"
import { LogSearches } from "./log-search.ts"
import { REPORT_FORMATS, renderReport } from "./report-render.ts"
import { MAX_RUNS, type ReportRun } from "./reports.ts"
import { adomsOf, type AnalyzerView, faTime, FIRMWARE, haMode, systemStatus, upTime } from "./system-view.ts"

export interface JsonRpcOptions {
  readonly device: string
  readonly bus: EventBus
  readonly clock: LabClock
  readonly view: AnalyzerView
}

/** An HTTP answer: status, extra headers, JSON body. */
export interface HttpAnswer {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

interface Session {
  readonly id: string
  readonly user: string
  readonly settings: AdminUserSettings
  readonly peer: string
  lastUsed: number
}

/** Who a call runs as: a session, or an API user by its bearer key. */
interface Caller {
  readonly user: string
  readonly settings: AdminUserSettings
}

interface Outcome {
  readonly status: Status
  readonly data?: Json
  /** fazlab's sentence: what is wrong and what to do (the `detail` of the result). */
  readonly detail?: string
}

interface Task {
  readonly id: number
  readonly title: string
  readonly adom: string
  readonly user: string
  readonly start: number
  readonly lines: ReadonlyArray<JsonObject>
}

const ok = (data?: Json): Outcome => (data === undefined ? { status: STATUS.ok } : { status: STATUS.ok, data })
const failed = (status: Status, detail: string): Outcome => ({ status, detail })

const json = (status: number, body: unknown, headers: Record<string, string> = {}): HttpAnswer => ({
  status,
  headers: { "content-type": "application/json", ...headers },
  body: `${JSON.stringify(body)}\n`
})

/** FortiOS firmware "v7.4.4" → FortiAnalyzer's `os_ver` "7.0", `mr` 4, `patch` 4. */
const firmware = (version: string): { readonly os_ver: string; readonly mr: number; readonly patch: number } => {
  const match = /^v?(\d+)\.(\d+)\.(\d+)/u.exec(version)
  return match === null ? { os_ver: "7.0", mr: 0, patch: 0 } : { os_ver: `${match[1]}.0`, mr: Number(match[2]), patch: Number(match[3]) }
}

/** What a search request's `limit`/`offset` say, within bounds. */
const wholeOr = (value: Json | undefined, fallback: number): number =>
  typeof value === "number" && Number.isInteger(value) && value >= 0 ? value : fallback

export class JsonRpcApi {
  readonly #options: JsonRpcOptions
  readonly #sessions = new Map<string, Session>()
  readonly #tasks = new Map<number, Task>()
  readonly #buckets = new Map<string, { tokens: number; at: number }>()
  readonly searches: LogSearches
  #nextTask = 1

  constructor(options: JsonRpcOptions) {
    this.#options = options
    this.searches = new LogSearches(options.view, () => options.clock.now())
  }

  get #setting() {
    return this.#options.view.admins.settings.setting
  }

  /** Whether a request from `address` stays within `api-rate` (a token bucket of one second's worth, on the lab clock). */
  allow(address: string): boolean {
    const rate = this.#setting.apiRate
    const now = this.#options.clock.now()
    const bucket = this.#buckets.get(address) ?? { tokens: Math.max(1, rate), at: now }
    bucket.tokens = Math.min(Math.max(1, rate), bucket.tokens + ((now - bucket.at) / 1000) * rate)
    bucket.at = now
    this.#buckets.set(address, bucket)
    if (bucket.tokens < 1) return false
    bucket.tokens -= 1
    return true
  }

  /** HTTP 429 for a request over `api-rate`. */
  tooMany(address: string): HttpAnswer {
    return json(429, {
      id: null,
      result: [{
        status: STATUS.runtime,
        detail: `more than api-rate ${this.#setting.apiRate}/s requests from ${address}; slow down or raise devices.${this.#options.device}.admin.setting.api-rate`
      }]
    }, { "retry-after": "1" })
  }

  /** HTTP 413 for a body over `api-max-body-bytes`. */
  tooLarge(): HttpAnswer {
    return json(413, {
      id: null,
      result: [{
        status: STATUS.invalidData,
        detail: `the request body is over api-max-body-bytes ${this.#setting.apiMaxBodyBytes}; send less, or raise devices.${this.#options.device}.admin.setting.api-max-body-bytes`
      }]
    })
  }

  /** Logs `user` in with a password: a new session id, or why not. Shared with the web page's login form. */
  async login(user: string, password: string, peer: string): Promise<{ readonly session: string } | { readonly reason: string }> {
    const { view, bus, device, clock } = this.#options
    const result = await view.admins.password(user, password, "jsonrpc")
    let reason = result.ok ? null : result.reason
    if (result.ok && result.settings.rpcPermit === "none") reason = `${user} has rpc-permit none`
    const open = [...this.#sessions.values()].filter((session) => session.user === user && this.#alive(session))
    if (reason === null && open.length >= this.#setting.loginMax) {
      reason = `login-max ${this.#setting.loginMax} sessions of ${user} are open; log out (exec sys/logout) or raise admin.setting.login-max`
    }
    bus.publish({ type: "admin-login", device, via: "jsonrpc", user, peer, ok: reason === null, reason: reason ?? (result.ok ? result.reason : "refused") })
    if (reason !== null || !result.ok) return { reason: reason ?? "refused" }
    const id = crypto.randomBytes(66).toString("base64")
    this.#sessions.set(id, { id, user, settings: result.settings, peer, lastUsed: clock.now() })
    return { session: id }
  }

  /** The session's user while the session lives (using it keeps it alive); null once unknown or expired. */
  session(id: string): Session | null {
    const session = this.#sessions.get(id)
    if (session === undefined || !this.#alive(session)) return null
    session.lastUsed = this.#options.clock.now()
    return session
  }

  /** Alive, or expired now (removed and reported once). */
  #alive(session: Session): boolean {
    const limit = this.#setting.idleTimeoutApi
    if (this.#options.clock.now() - session.lastUsed <= limit) return true
    if (this.#sessions.delete(session.id)) {
      this.#options.bus.publish({ type: "admin-logout", device: this.#options.device, via: "jsonrpc", user: session.user, peer: session.peer, reason: `unused for idle-timeout-api ${limit / 1000} s` })
    }
    return false
  }

  logout(id: string, why: string): boolean {
    const session = this.#sessions.get(id)
    if (session === undefined) return false
    this.#sessions.delete(id)
    this.#options.bus.publish({ type: "admin-logout", device: this.#options.device, via: "jsonrpc", user: session.user, peer: session.peer, reason: why })
    return true
  }

  /** One POST /jsonrpc body, with the `Authorization` header, from `peer`. */
  async handle(body: string, authorization: string | undefined, peer: string): Promise<HttpAnswer> {
    let parsed: unknown
    try {
      parsed = parseLenient(body)
    } catch (cause) {
      return json(200, { id: null, result: [{ status: STATUS.invalidData, detail: `the body is not JSON (${cause instanceof Error ? cause.message : String(cause)}); send {"id", "method", "params": [{"url": ...}]}` }] })
    }
    const request = decodeRequest(parsed)
    if (typeof request === "string") return json(200, { id: isObject(parsed) ? parsed["id"] ?? null : null, result: [{ status: STATUS.invalidData, detail: request }] })

    const bearer = /^Bearer\s+(\S+)$/iu.exec(authorization ?? "")?.[1]
    let caller: Caller | null = null
    let callerProblem = "no session: log in with exec sys/login/user, or send an API key as Authorization: Bearer <key>"
    if (bearer !== undefined) {
      const result = this.#options.view.admins.apiKey(bearer)
      if (result.ok) caller = { user: result.user, settings: result.settings }
      else callerProblem = result.reason
    } else if (request.session !== null) {
      caller = this.session(request.session)
      if (caller === null) callerProblem = "the session is unknown or expired; log in again with exec sys/login/user"
    }

    const results: Array<{ readonly url: string; readonly outcome: Outcome }> = []
    let newSession: string | null = null
    for (const params of request.params) {
      const url = normalizeUrl(params.url)
      if (request.method === "exec" && url === "/sys/login/user") {
        const data = dataObject(params)
        const user = data?.["user"]
        const passwd = data?.["passwd"]
        if (typeof user !== "string" || typeof passwd !== "string") {
          results.push({ url: params.url, outcome: failed(STATUS.invalidData, "sys/login/user needs data {\"user\", \"passwd\"}") })
          continue
        }
        const login = await this.login(user, passwd, peer)
        if ("session" in login) newSession = login.session
        results.push({ url: params.url, outcome: "session" in login ? ok() : failed(STATUS.noPermission, login.reason) })
        continue
      }
      if (caller === null) {
        results.push({ url: params.url, outcome: failed(STATUS.noPermission, callerProblem) })
        continue
      }
      if (request.method === "exec" && url === "/sys/logout") {
        if (request.session !== null) this.logout(request.session, "exec sys/logout")
        results.push({ url: params.url, outcome: ok() })
        continue
      }
      results.push({ url: params.url, outcome: await this.#call(request, params, url, caller) })
    }
    return json(200, this.#envelope(request, results, newSession))
  }

  #envelope(request: RpcRequest, results: ReadonlyArray<{ readonly url: string; readonly outcome: Outcome }>, session: string | null): unknown {
    if (request.v2) {
      const first = results[0]?.outcome ?? failed(STATUS.invalidData, "no params")
      return first.status.code === 0
        ? { jsonrpc: "2.0", id: request.id, result: first.data ?? { status: { code: 0, message: "succeeded" } } }
        : { jsonrpc: "2.0", id: request.id, error: { code: first.status.code, message: first.status.message, ...(first.detail === undefined ? {} : { detail: first.detail }) } }
    }
    return {
      id: request.id,
      result: results.map(({ url, outcome }) => ({
        status: outcome.status,
        url,
        ...(outcome.data === undefined ? {} : { data: outcome.data }),
        ...(outcome.detail === undefined ? {} : { detail: outcome.detail })
      })),
      ...(session === null ? {} : { session })
    }
  }

  async #call(request: RpcRequest, params: RpcParams, url: string, caller: Caller): Promise<Outcome> {
    const method = request.method
    const writes = method !== "get" && !url.includes("/logsearch")
    if (writes && caller.settings.rpcPermit !== "read-write") {
      return failed(STATUS.noPermission, `${caller.user} has rpc-permit ${caller.settings.rpcPermit}: it may read, not ${method} ${url}`)
    }
    const segments = url.split("/").slice(1)
    if (method === "get" && segments[0] === "report" && segments[1] === "adom" && segments[2] !== undefined) {
      const found = await this.#report(segments[2], segments.slice(3), params)
      if (found !== null) return found
    }
    if (method === "get") return this.#get(url, segments, params, request.verbose)
    if (method === "exec" && url === "/dvm/cmd/add/device") return this.#addDevice(params, caller)
    if (method === "exec" && url === "/dvm/cmd/del/device") return this.#deleteDevice(params, caller)
    // /report/adom/{adom}/run
    if (method === "add" && segments[0] === "report" && segments[1] === "adom" && segments[3] === "run" && segments.length === 4) {
      return this.#runReport(segments[2] ?? "root", params)
    }
    // /logview/adom/{adom}/logsearch[/{tid}]
    if (segments[0] === "logview" && segments[1] === "adom" && segments[3] === "logsearch") {
      const adom = segments[2] ?? "root"
      if (!adomsOf(this.#options.view.store.devices.list()).includes(adom)) return failed(STATUS.missing, `ADOM ${adom} does not exist`)
      if (method === "add" && segments.length === 4) {
        const result = this.searches.add(adom, params)
        return "tid" in result ? ok({ tid: result.tid }) : failed(STATUS.invalidData, result.invalid)
      }
      if (method === "delete" && segments.length === 5) {
        const tid = Number(segments[4])
        return this.searches.delete(tid) ? ok({ tid, status: { code: 0, message: "succeeded" } }) : failed(STATUS.missing, `no log search with tid ${segments[4] ?? ""}; it was deleted or has expired`)
      }
    }
    return failed(STATUS.invalidUrl, `${method} ${url} is not served; see docs/protocols/jsonrpc.md for the urls fazlab answers`)
  }

  // ---------------------------------------------------------------------------------------------
  // get
  // ---------------------------------------------------------------------------------------------

  #get(url: string, segments: ReadonlyArray<string>, params: RpcParams, verbose: boolean): Outcome {
    const view = this.#options.view
    switch (url) {
      case "/sys/status":
      case "/cli/global/system/status":
        return ok(this.#status())
      case "/sys/ha/status":
        return ok(this.#haStatus())
      case "/cli/global/system/global": {
        const adoms = adomsOf(view.store.devices.list()).length > 1
        return ok({ hostname: view.settings.hostname, "adom-status": verbose ? (adoms ? "enable" : "disable") : adoms ? 1 : 0, timezone: verbose ? "00" : 0 })
      }
      case "/cli/global/system/ha":
        return ok(this.#haConfig())
      case "/cli/global/system/admin/setting": {
        const s = this.#setting
        return ok({ http_port: 80, https_port: 443, "admin-https-redirect": verbose ? s.adminHttpsRedirect : s.adminHttpsRedirect === "enable" ? 1 : 0, idle_timeout: s.idleTimeout / 1000, idle_timeout_api: s.idleTimeoutApi / 1000 })
      }
      case "/cli/global/system/admin/user":
        return ok(Object.entries(view.admins.settings.user).map(([name, user]) => this.#user(name, user)))
      case "/dvmdb/adom":
        return ok(this.#select(adomsOf(view.store.devices.list()).map((name, i) => this.#adom(name, i)), params))
      case "/dvmdb/device":
        return this.#devices(null, params, verbose)
      case "/task/task":
        return ok([...this.#tasks.values()].map((task) => this.#task(task)))
      default:
        break
    }
    const [a, b, c, d, e, f, g] = segments
    if (a === "cli" && b === "global" && c === "system" && d === "admin" && e === "user" && f !== undefined && g === undefined) {
      const user = view.admins.user(f)
      return user === undefined ? failed(STATUS.missing, `no administrator named ${f}`) : ok(this.#user(f, user))
    }
    if (a === "dvmdb" && b === "adom" && c !== undefined) {
      const adoms = adomsOf(view.store.devices.list())
      if (!adoms.includes(c)) return failed(STATUS.missing, `ADOM ${c} does not exist (ADOMs: ${adoms.join(", ")})`)
      if (d === undefined) return ok(this.#adom(c, adoms.indexOf(c)))
      if (d === "device" && f === undefined) return e === undefined ? this.#devices(c, params, verbose) : this.#device(c, e, verbose)
    }
    if (a === "dvmdb" && b === "device" && c !== undefined && d === undefined) return this.#device(null, c, verbose)
    if (a === "task" && b === "task" && c !== undefined && d === undefined) {
      const task = this.#tasks.get(Number(c))
      return task === undefined ? failed(STATUS.missing, `no task ${c}`) : ok(this.#task(task))
    }
    if (a === "logview" && b === "adom" && c !== undefined) {
      if (!adomsOf(view.store.devices.list()).includes(c)) return failed(STATUS.missing, `ADOM ${c} does not exist`)
      if (d === "logsearch" && e === "count" && f !== undefined) {
        const count = this.searches.count(Number(f))
        return count === undefined ? failed(STATUS.missing, `no log search with tid ${f}; it was deleted or has expired`) : ok(count)
      }
      if (d === "logsearch" && e !== undefined && f === undefined) {
        const page = this.searches.page(Number(e), wholeOr(params["offset"], 0), wholeOr(params["limit"], 100))
        return page === undefined ? failed(STATUS.missing, `no log search with tid ${e}; it was deleted or has expired`) : ok(page)
      }
      if (d === "logstats" && e === undefined) return ok(this.#logstats(c))
      if (d === "logfiles" && e === "state" && f === undefined) return ok(this.#logfiles(c))
    }
    return failed(STATUS.invalidUrl, `get ${url} is not served; see docs/protocols/jsonrpc.md for the urls fazlab answers`)
  }

  #status(): JsonObject {
    const view = this.#options.view
    const rows: Record<string, Json> = Object.fromEntries(systemStatus(view, new Date()))
    return { ...rows, Major: FIRMWARE.major, Minor: FIRMWARE.minor, Patch: FIRMWARE.patch, Build: FIRMWARE.build }
  }

  #haStatus(): JsonObject {
    const view = this.#options.view
    const ha = view.ha
    if (ha === null) return { "HA Role": "Standalone", "HA Mode": "Stand Alone", members: [] }
    return {
      "HA Role": haMode(view),
      "HA Mode": "a-p",
      "Cluster-ID": ha.config.groupId,
      "HB-Interval": Math.max(1, Math.round(ha.config.hbIntervalMs / 1000)),
      "HB-Lost-Threshold": ha.config.hbLostThreshold,
      "Up-Time": upTime(view.uptime()),
      reason: ha.reason(),
      members: ha.links().map((link) => ({
        serial: link.member.serial,
        name: link.member.name,
        "conn-st": link.connected ? "up" : "down",
        "sync-st": link.synced ? "in-sync" : link.connected ? "syncing" : "none"
      }))
    }
  }

  #haConfig(): JsonObject {
    const view = this.#options.view
    const ha = view.ha
    if (ha === null) return { mode: "standalone" }
    const self = ha.config.members.find((member) => member.serial === view.settings.serial)
    return {
      mode: "a-p",
      "group-id": ha.config.groupId,
      "group-name": ha.config.groupName,
      "hb-interval": Math.max(1, Math.round(ha.config.hbIntervalMs / 1000)),
      "hb-lost-threshold": ha.config.hbLostThreshold,
      priority: self?.priority ?? 100,
      "preferred-role": self?.preferredRole ?? "secondary",
      peer: ha.config.members.filter((member) => member !== self).map((member, i) => ({ id: i + 1, "serial-number": member.serial, name: member.name, status: "enable" }))
    }
  }

  #user(name: string, user: AdminUserSettings): JsonObject {
    return { userid: name, user_type: user.userType, profileid: user.profileid, "rpc-permit": user.rpcPermit, "login-max": this.#setting.loginMax }
  }

  #adom(name: string, index: number): JsonObject {
    return { name, oid: 3 + index, desc: name === "root" ? "default ADOM" : "", state: 1, restricted_prds: "fos", os_ver: `${FIRMWARE.major}.0`, mr: FIRMWARE.minor, log_db_retention_hours: 1440, log_file_retention_hours: 8760, log_disk_quota: 0 }
  }

  /** A registry device as `/dvmdb` returns it (enums as names with `verbose: 1`, as numbers without). */
  #deviceObject(device: RegisteredDevice, index: number, verbose: boolean): JsonObject {
    const online = this.#options.view.connectedSerials().includes(device.serial)
    const managed = device.state === "authorized"
    const fw = firmware(device.version)
    return {
      oid: 101 + index,
      name: device.name,
      hostname: device.name,
      sn: device.serial,
      ip: device.ip,
      platform_str: device.platform,
      os_type: verbose ? (device.platform.startsWith("FortiClient") ? "fct" : "fos") : 0,
      ...fw,
      build: 0,
      mgmt_mode: verbose ? (managed ? "faz" : "unreg") : managed ? 2 : 0,
      conn_status: verbose ? (online ? "up" : managed ? "down" : "UNKNOWN") : online ? 1 : managed ? 2 : 0,
      adom: device.adom ?? "",
      vdom: (device.vdoms.length === 0 ? ["root"] : device.vdoms).map((name, i) => ({ name, oid: 3 + i })),
      "faz.quota": 0,
      "faz.used": 0,
      "held-logs": device.heldLogs,
      first_tunnel_up: Math.floor(device.firstSeen / 1000),
      last_checked: Math.floor(device.lastSeen / 1000)
    }
  }

  /** `fields` keeps only those keys; `filter` keeps the objects that pass (compared on the verbose names). */
  #select(objects: ReadonlyArray<JsonObject>, params: RpcParams, verboseForm?: ReadonlyArray<JsonObject>): ReadonlyArray<JsonObject> | string {
    const filter = params["filter"]
    let kept = objects
    if (filter !== undefined && filter !== null) {
      const judged = (verboseForm ?? objects).map((object) => matchesFilter(object, filter))
      if (judged.some((value) => value === null)) return "filter must be [\"field\", \"==\", value] (or !=, like, in), or such conditions joined by \"&&\" / \"||\""
      kept = objects.filter((_, i) => judged[i] === true)
    }
    const fields = params["fields"]
    if (Array.isArray(fields) && fields.length > 0) {
      const keep = new Set(fields.filter((field): field is string => typeof field === "string"))
      kept = kept.map((object) => Object.fromEntries(Object.entries(object).filter(([key]) => keep.has(key) || key === "name")))
    }
    return kept
  }

  #devices(adom: string | null, params: RpcParams, verbose: boolean): Outcome {
    const all = this.#options.view.store.devices.list()
    const indexed = all.map((device, i) => ({ device, i })).filter(({ device }) => adom === null || (device.state === "authorized" && (device.adom ?? "root") === adom))
    const objects = indexed.map(({ device, i }) => this.#deviceObject(device, i, verbose))
    const named = indexed.map(({ device, i }) => this.#deviceObject(device, i, true))
    const selected = this.#select(objects, params, named)
    return typeof selected === "string" ? failed(STATUS.invalidData, selected) : ok(selected)
  }

  #device(adom: string | null, name: string, verbose: boolean): Outcome {
    const all = this.#options.view.store.devices.list()
    const index = all.findIndex((device) => (device.name === name || device.serial === name) && (adom === null || (device.adom ?? "root") === adom))
    const device = all[index]
    return device === undefined ? failed(STATUS.missing, `no device ${name}${adom === null ? "" : ` in ADOM ${adom}`}; see get /dvmdb/device`) : ok(this.#deviceObject(device, index, verbose))
  }

  #task(task: Task): JsonObject {
    return {
      id: task.id,
      title: task.title,
      adom: task.adom,
      user: task.user,
      src: "device manager",
      start_tm: Math.floor(task.start / 1000),
      end_tm: Math.floor(task.start / 1000),
      percent: 100,
      state: "done",
      num_lines: task.lines.length,
      num_done: task.lines.filter((line) => line["state"] === "done").length,
      num_err: task.lines.filter((line) => line["state"] === "error").length,
      line: task.lines
    }
  }

  #newTask(title: string, adom: string, user: string, line: JsonObject): number {
    const id = this.#nextTask++
    this.#tasks.set(id, { id, title, adom, user, start: Date.now(), lines: [line] })
    // The oldest tasks go first past 1000, as a real unit prunes its task list.
    if (this.#tasks.size > 1000) this.#tasks.delete(this.#tasks.keys().next().value ?? 0)
    return id
  }

  // ---------------------------------------------------------------------------------------------
  // exec /dvm/cmd/add|del/device
  // ---------------------------------------------------------------------------------------------

  async #addDevice(params: RpcParams, caller: Caller): Promise<Outcome> {
    const data = dataObject(params)
    const device = data?.["device"]
    if (data === null || !isObject(device)) return failed(STATUS.invalidData, "dvm/cmd/add/device needs data {\"adom\", \"device\": {\"sn\" or \"name\", ...}}")
    const adom = typeof data["adom"] === "string" && data["adom"] !== "" ? data["adom"] : "root"
    const key = typeof device["sn"] === "string" ? device["sn"] : typeof device["name"] === "string" ? device["name"] : null
    if (key === null) return failed(STATUS.invalidData, "the device needs its serial (\"sn\") or its name")
    const registry = this.#options.view.store.devices.list()
    const found = registry.find((d) => d.serial === key || d.name === key)
    if (found === undefined) {
      return failed(STATUS.missing, `no device ${key} has connected to ${this.#options.device}; fazlab authorizes devices that registered (mgmt_mode unreg), it does not add model devices`)
    }
    if (found.state === "authorized" && (found.adom ?? "root") === adom) return failed(STATUS.exists, `${found.serial} is already authorized in ADOM ${adom}`)
    const result = await Effect.runPromise(Effect.result(this.#options.view.authorizeDevice(found.serial, adom)))
    if (result._tag === "Failure") return failed(STATUS.missing, result.failure.message)
    const after = this.#options.view.store.devices.list()
    const index = after.findIndex((d) => d.serial === found.serial)
    const object = this.#deviceObject(after[index] ?? found, index, true)
    const flags = Array.isArray(data["flags"]) ? data["flags"] : []
    if (flags.includes("create_task") || flags.includes("nonblocking")) {
      const taskid = this.#newTask(`Add device ${found.name}`, adom, caller.user, { name: found.name, oid: object["oid"] ?? 0, state: "done", detail: `authorized into ${adom}; ${result.success.released} held logs released`, percent: 100 })
      return ok({ taskid })
    }
    return ok({ device: object })
  }

  async #deleteDevice(params: RpcParams, caller: Caller): Promise<Outcome> {
    const data = dataObject(params)
    const raw = data?.["device"]
    const key = typeof raw === "string" ? raw : isObject(raw) && typeof raw["name"] === "string" ? raw["name"] : null
    if (data === null || key === null) return failed(STATUS.invalidData, "dvm/cmd/del/device needs data {\"adom\", \"device\": \"<name or serial>\"}")
    const found = this.#options.view.store.devices.list().find((d) => d.serial === key || d.name === key)
    if (found === undefined) return failed(STATUS.missing, `no device ${key} on ${this.#options.device}; see get /dvmdb/device`)
    const result = await Effect.runPromise(Effect.result(this.#options.view.deleteDevice(found.serial)))
    if (result._tag === "Failure") return failed(STATUS.missing, result.failure.message)
    const flags = Array.isArray(data["flags"]) ? data["flags"] : []
    if (flags.includes("create_task") || flags.includes("nonblocking")) {
      const adom = typeof data["adom"] === "string" ? data["adom"] : "root"
      return ok({ taskid: this.#newTask(`Delete device ${found.name}`, adom, caller.user, { name: found.name, state: "done", detail: `deleted; ${result.success.dropped} held logs dropped`, percent: 100 }) })
    }
    return ok()
  }

  // ---------------------------------------------------------------------------------------------
  // Reports: run, run state, download
  // ---------------------------------------------------------------------------------------------

  /** `add /report/adom/{adom}/run` with `schedule` (a report schedule's name): `{tid}`. */
  #runReport(adom: string, params: RpcParams): Outcome {
    const reports = this.#options.view.reports
    const name = params["schedule"] ?? dataObject(params)?.["schedule"]
    if (typeof name !== "string" || name === "") return failed(STATUS.invalidData, "report/adom/<adom>/run needs \"schedule\": the name of a report schedule")
    const schedule = reports.schedule(name, adom)
    if (schedule === undefined) return failed(STATUS.missing, `no report schedule ${name} in ADOM ${adom}; add it to the scenario file's report.schedule`)
    return ok({ tid: reports.runNow(schedule).tid })
  }

  #runObject(run: ReportRun): JsonObject {
    return {
      tid: run.tid,
      schedule: run.schedule,
      title: run.title,
      adom: run.adom,
      state: run.state,
      "progress-percent": run.state === "running" ? 0 : 100,
      "start-time": faTime(new Date(run.startedAt)),
      "end-time": run.endedAt === null ? "" : faTime(new Date(run.endedAt)),
      "period-start": faTime(new Date(run.period.start)),
      "period-end": faTime(new Date(run.period.end)),
      ...(run.reason === null ? {} : { detail: run.reason })
    }
  }

  /** `get /report/adom/{adom}/run[/{tid}]`, `reports/state`, `reports/data/{tid}`; null for another url. */
  async #report(adom: string, rest: ReadonlyArray<string>, params: RpcParams): Promise<Outcome | null> {
    const reports = this.#options.view.reports
    const inAdom = reports.runs().filter((run) => run.adom === adom)
    const [d, e, f, g] = rest
    if (d === "run" && e === undefined) return ok(inAdom.filter((run) => run.state === "running").map((run) => this.#runObject(run)))
    if (d === "reports" && e === "state" && f === undefined) return ok(inAdom.filter((run) => run.state === "generated").map((run) => this.#runObject(run)))
    const tid = d === "run" && e !== undefined && f === undefined ? e : d === "reports" && e === "data" && f !== undefined && g === undefined ? f : null
    if (tid === null) return null
    const run = reports.run(tid)
    if (run === undefined || run.adom !== adom) return failed(STATUS.missing, `no report with tid ${tid} in ADOM ${adom}; it was never run or is one of the oldest (fazlab keeps the last ${MAX_RUNS})`)
    return d === "run" ? ok(this.#runObject(run)) : this.#reportData(run, params)
  }

  /** The report as FortiAnalyzer sends it: a zip of the file in `format` (PDF, HTML, CSV), base64. */
  async #reportData(run: ReportRun, params: RpcParams): Promise<Outcome> {
    const asked = typeof params["format"] === "string" ? params["format"].toLowerCase() : "pdf"
    const format = REPORT_FORMATS.find((known) => known === asked)
    if (format === undefined) return failed(STATUS.invalidData, `format ${String(params["format"])} is not one fazlab makes; ask for PDF, HTML or CSV`)
    if (run.deleted !== null) return failed(STATUS.missing, run.deleted)
    if (run.state !== "generated" || run.content === null) return failed(STATUS.missing, run.state === "failed" ? run.reason ?? "the report failed" : `report ${run.tid} is still running; ask for its state with get /report/adom/${run.adom}/run/${run.tid}`)
    const content = run.files.find((file) => file.format === format)?.content ?? await renderReport(run.content, format)
    const zipped = Buffer.from(zipSync({ [`${run.base}.${format}`]: new Uint8Array(content) }))
    return ok({
      name: `${run.base}.zip`,
      "data-type": "zip/base64",
      data: zipped.toString("base64"),
      checksum: crypto.createHash("md5").update(zipped).digest("hex"),
      length: zipped.length
    })
  }

  // ---------------------------------------------------------------------------------------------
  // LogView: logstats, logfiles/state
  // ---------------------------------------------------------------------------------------------

  /** The log senders of an ADOM: its authorized devices; in root, the syslog senders too. */
  #senders(adom: string): ReadonlyArray<{ readonly devid: string; readonly devname: string }> {
    const registered = this.#options.view.store.devices.list()
    const inAdom = registered.filter((d) => d.state === "authorized" && (d.adom ?? "root") === adom).map((d) => ({ devid: d.serial, devname: d.name }))
    if (adom !== "root") return inAdom
    const known = new Set(registered.map((d) => d.name))
    const syslog = this.#options.view.store.countByDevice().filter(({ device }) => !known.has(device)).map(({ device }) => ({ devid: device, devname: device }))
    return [...inAdom, ...syslog]
  }

  #logstats(adom: string): ReadonlyArray<JsonObject> {
    const store = this.#options.view.store
    return this.#senders(adom).map(({ devid, devname }) => {
      const newest = store.query({ device: devname, limit: 1, order: "desc" })[0]
      return { devid, devname, "log-count": store.count({ device: devname }), "last-log-time": newest === undefined ? null : faTime(new Date(newest.receivedAt)) }
    })
  }

  #logfiles(adom: string): ReadonlyArray<JsonObject> {
    const store = this.#options.view.store
    const files: ReadonlyArray<readonly [string, string]> = [["tlog.log", "traffic"], ["elog.log", "event"], ["ulog.log", "utm"]]
    return this.#senders(adom).map(({ devid, devname }) => ({
      devid,
      devname,
      vdom: "root",
      logfiles: files.flatMap(([name, type]) => {
        const count = store.count({ device: devname, type })
        if (count === 0) return []
        const first = store.query({ device: devname, type, limit: 1, order: "asc" })[0]
        const last = store.query({ device: devname, type, limit: 1, order: "desc" })[0]
        return [{ name, type, "log-count": count, starttime: Math.floor((first?.receivedAt ?? 0) / 1000), endtime: Math.floor((last?.receivedAt ?? 0) / 1000) }]
      })
    }))
  }
}
