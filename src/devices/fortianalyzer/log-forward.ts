/**
 * The analyzer's log forwarding (`config system log-forward`, mode `forwarding`): every log it
 * stores goes on, filtered per entry, to another collector: a syslog or CEF server over UDP
 * (or TCP with `fwd-reliable enable`), a real rsyslog as well as another emulated analyzer, or
 * (`fwd-server-type fortianalyzer`) another analyzer over OFTP on TCP/514 (`OftpForwardTarget`).
 *
 * Each entry is one server. A stored batch is filtered (`device-filter`, then `log-filter`
 * when `log-filter-status` is enable), written in the entry's format
 * (`protocols/logforward/forwarded.ts`) and sent at once with `fwd-max-delay realtime` (at the
 * rate logs arrive), or every minute / five minutes on the lab clock. A TCP server that is down
 * is dialled again every `retry` (5 s) while the entry keeps up to `queue-size` logs; logs over
 * that are dropped, counted and said. Each batch sent is one `logs-forwarded` event; each change
 * of the link's state (forwarding, retrying, stopped) one `log-forward` event with its reason.
 */
import * as Schema from "effect/Schema"
import type { EventBus } from "../../events/bus.ts"
import type { LabClock } from "../../machines/clock.ts"
import type { PortPlan } from "../../net/port-plan.ts"
import { resolveServer } from "../../net/server-address.ts"
import { parseKeyValues } from "../../protocols/fortios/kv.ts"
import {
  encodeForwardedCef,
  encodeForwardedSyslog,
  type ForwardedLogInput,
  logverOf
} from "../../protocols/logforward/forwarded.ts"
import { FACILITIES } from "../../protocols/syslog/encode.ts"
import { parseSyslog } from "../../protocols/syslog/message.ts"
import type { DeviceRegistry } from "../../store/device-registry.ts"
import type { LogRecordInput } from "../../store/log-record.ts"
import { Duration, FacilityName, NonEmpty, Server, settingsStruct, wholeNumber, withDefault } from "../settings.ts"
import type { DeviceContext } from "../device.ts"
import { FazLogger, type FazLoggerSettings } from "../fortigate/faz-logger.ts"
import { openSyslogLink, type SyslogLink } from "../shared/syslog-link.ts"
import { FIRMWARE, PLATFORM } from "./system-view.ts"

/** `config device-filter`: a device by serial or name (a lab device id is turned into both by the lab). */
const LogForwardDeviceFilter = Schema.Struct({
  device: Schema.ArrayEnsure(NonEmpty),
  action: withDefault(Schema.Literals(["include", "exclude"]), "include")
})
type LogForwardDeviceFilter = typeof LogForwardDeviceFilter.Type

/** `config log-filter`: a condition on one field of the log (`type`, `subtype`, `level`, `logid`, any FortiOS field). */
const LogForwardLogFilter = Schema.Struct({
  field: NonEmpty,
  oper: withDefault(Schema.Literals(["=", "!=", "contain", "not-contain"]), "="),
  value: Schema.String
})
type LogForwardLogFilter = typeof LogForwardLogFilter.Type

/**
 * One `config system log-forward` entry, FortiAnalyzer's names; `queue-size`, `retry` and
 * `agg-interval` are fazlab's. Mode `aggregation` entries are `aggregation-client.ts`'s.
 */
export const LogForwardEntry = settingsStruct({
  id: wholeNumber(1, 9999),
  serverName: NonEmpty,
  mode: withDefault(Schema.Literals(["forwarding", "aggregation", "disable"]), "forwarding"),
  fwdServerType: withDefault(Schema.Literals(["syslog", "cef", "fortianalyzer"]), "syslog"),
  /** A device (or HA group) of the lab, or a host outside it. */
  serverAddr: Server,
  serverPort: withDefault(wholeNumber(1, 65535), 514),
  fwdReliable: withDefault(Schema.Literals(["enable", "disable"]), "disable"),
  fwdFacility: withDefault(FacilityName, "local7"),
  fwdSyslogFormat: withDefault(Schema.Literals(["fgt", "rfc-5424"]), "fgt"),
  fwdMaxDelay: withDefault(Schema.Literals(["realtime", "1min", "5min"]), "realtime"),
  deviceFilter: withDefault(Schema.Array(LogForwardDeviceFilter), []),
  logFilterStatus: withDefault(Schema.Literals(["enable", "disable"]), "disable"),
  logFilterLogic: withDefault(Schema.Literals(["and", "or"]), "or"),
  logFilter: withDefault(Schema.Array(LogForwardLogFilter), []),
  /** Logs held for a server that is down before the oldest are dropped. */
  queueSize: withDefault(wholeNumber(1, 10_000_000), 100_000),
  /** Milliseconds between dials of a TCP server that is down. */
  retry: withDefault(Duration, "5s"),
  /** Mode aggregation: an administrator of the server, and when to send (daily: every `agg-interval` of lab time; on-demand: at start only). */
  aggUser: withDefault(NonEmpty, "admin"),
  aggPassword: withDefault(Schema.String, ""),
  aggSchedule: withDefault(Schema.Literals(["daily", "on-demand"]), "daily"),
  aggInterval: withDefault(Duration, "1440m")
})
export type LogForwardEntry = typeof LogForwardEntry.Type

export interface LogForwardOptions {
  readonly analyzer: string
  /** What an OFTP forward says of the analyzer in its HELLO. */
  readonly serial: string
  readonly hostname: string
  /** The OFTP link's context (its address, certificate and the lab CA); the rest of the options are the same bus, plan and clock. */
  readonly context: DeviceContext
  readonly bus: EventBus
  readonly plan: PortPlan
  readonly clock: LabClock
  readonly devices: DeviceRegistry
  readonly entries: ReadonlyArray<LogForwardEntry>
}

const DELAYS = { realtime: 0, "1min": 60_000, "5min": 300_000 } as const

/** FortiOS fields of a stored log in their order, or none when its body is not key=value. */
const fieldsOf = (record: LogRecordInput): { readonly fields: ReadonlyArray<readonly [string, string]>; readonly text: string } => {
  if (record.fields !== null && record.fields !== "from-raw") return { fields: Object.entries(record.fields), text: record.raw }
  const parsed = parseSyslog(Buffer.from(record.raw, "utf8"))
  if (!parsed.ok) return { fields: [], text: record.raw }
  const fields = parsed.fields ?? parseKeyValues(parsed.message)
  return { fields: fields === null ? [] : Object.entries(fields), text: parsed.message }
}

/** Whether a log passes an entry's device filters: excluded devices never; with include filters, only those devices. */
export const passesDeviceFilter = (filters: ReadonlyArray<LogForwardDeviceFilter>, devid: string, devname: string): boolean => {
  const named = (filter: LogForwardDeviceFilter) => filter.device.includes(devid) || filter.device.includes(devname)
  if (filters.some((filter) => filter.action === "exclude" && named(filter))) return false
  const includes = filters.filter((filter) => filter.action === "include")
  return includes.length === 0 || includes.some(named)
}

const matches = (filter: LogForwardLogFilter, fields: ReadonlyMap<string, string>): boolean => {
  const value = fields.get(filter.field)
  switch (filter.oper) {
    case "=":
      return value === filter.value
    case "!=":
      return value !== filter.value
    case "contain":
      return value !== undefined && value.includes(filter.value)
    case "not-contain":
      return value === undefined || !value.includes(filter.value)
  }
}

/** Whether a log passes an entry's log filters (all of them with logic `and`, any with `or`). */
export const passesLogFilter = (entry: Pick<LogForwardEntry, "logFilterStatus" | "logFilterLogic" | "logFilter">, fields: ReadonlyMap<string, string>): boolean => {
  if (entry.logFilterStatus === "disable" || entry.logFilter.length === 0) return true
  return entry.logFilterLogic === "and" ? entry.logFilter.every((f) => matches(f, fields)) : entry.logFilter.some((f) => matches(f, fields))
}

/** Counters of one entry, for status lines and tests. */
export interface LogForwardCounters {
  readonly forwarded: number
  readonly filtered: number
  readonly dropped: number
  readonly queued: number
}

/** One server of `config system log-forward`. */
class ForwardTarget {
  readonly entry: LogForwardEntry
  readonly #options: LogForwardOptions
  #queue: Buffer[] = []
  #link: SyslogLink | null = null
  #opening = false
  #flushTimer: unknown = null
  #retryTimer: unknown = null
  #state: "idle" | "forwarding" | "retrying" | "stopped" = "idle"
  #stopped = false
  forwarded = 0
  filtered = 0
  dropped = 0

  constructor(entry: LogForwardEntry, options: LogForwardOptions) {
    this.entry = entry
    this.#options = options
  }

  get queued(): number {
    return this.#queue.length
  }

  /** What the entry's settings say of where it sends: `syslog udp/514 to collector`. */
  get #port() {
    return `${this.entry.fwdReliable === "enable" ? "tcp" : "udp"}/${this.entry.serverPort}` as const
  }

  take(messages: ReadonlyArray<Buffer>, filtered: number): void {
    this.filtered += filtered
    if (this.#stopped || messages.length === 0) return
    const room = this.entry.queueSize - this.#queue.length
    if (messages.length > room) {
      const dropped = messages.length - Math.max(0, room)
      this.dropped += dropped
      this.#options.bus.publish({
        type: "logs-forward-dropped",
        device: this.#options.analyzer,
        forward: this.entry.serverName,
        count: dropped,
        total: this.dropped,
        reason: `${this.entry.queueSize} logs already wait for ${this.entry.serverAddr} (queue-size); the newest are dropped`
      })
    }
    for (const message of messages.slice(0, Math.max(0, room))) this.#queue.push(message)
    const delay = DELAYS[this.entry.fwdMaxDelay]
    if (delay === 0) this.#pump()
    else this.#flushTimer ??= this.#options.clock.setTimeout(() => {
      this.#flushTimer = null
      this.#pump()
    }, delay)
  }

  #pump(): void {
    if (this.#stopped || this.#queue.length === 0) return
    const link = this.#link
    if (link === null) {
      this.#open()
      return
    }
    let sent = 0
    while (this.#queue.length > 0) {
      const message = this.#queue.shift() as Buffer
      sent++
      if (!link.send(message)) {
        link.onDrain(() => this.#pump())
        break
      }
    }
    this.forwarded += sent
    this.#options.bus.publish({
      type: "logs-forwarded",
      device: this.#options.analyzer,
      forward: this.entry.serverName,
      to: this.entry.serverAddr,
      count: sent,
      total: this.forwarded
    })
  }

  #open(): void {
    if (this.#opening || this.#retryTimer !== null) return
    this.#opening = true
    const target = resolveServer(this.#options.plan, this.entry.serverAddr, this.#port)
    const localAddress = this.#options.plan.sourceAddressOf(this.#options.analyzer)
    openSyslogLink({
      mode: this.entry.fwdReliable === "enable" ? "reliable" : "udp",
      host: target.address,
      port: target.actualPort,
      connectTimeoutMs: 5000,
      ...(localAddress === undefined ? {} : { localAddress })
    }).then(
      (link) => {
        this.#opening = false
        if (this.#stopped) {
          void link.close()
          return
        }
        this.#link = link
        link.onClose((reason) => {
          if (this.#link !== link) return
          this.#link = null
          this.#retrying(`the link to ${this.entry.serverAddr} (${this.#port}) was lost: ${reason}`)
        })
        this.#setState("forwarding", `forwarding ${this.entry.fwdServerType} logs to ${this.entry.serverAddr} on ${this.#port} (${target.address}:${target.actualPort})`)
        this.#pump()
      },
      (cause: unknown) => {
        this.#opening = false
        if (this.#stopped) return
        this.#retrying(`cannot reach ${this.entry.serverAddr} on ${this.#port}: ${cause instanceof Error ? cause.message : String(cause)}`)
      }
    )
  }

  #retrying(reason: string): void {
    this.#setState("retrying", `${reason}; ${this.#queue.length} logs wait, next try in ${this.entry.retry / 1000} s`)
    this.#retryTimer = this.#options.clock.setTimeout(() => {
      this.#retryTimer = null
      this.#pump()
    }, this.entry.retry)
  }

  #setState(state: "forwarding" | "retrying" | "stopped", reason: string): void {
    if (this.#state === state && state !== "retrying") return
    this.#state = state
    this.#options.bus.publish({ type: "log-forward", device: this.#options.analyzer, forward: this.entry.serverName, to: this.entry.serverAddr, state, reason })
  }

  /** Sends what waits (a clean stop) or drops it (a crash), then closes the link; the last datagrams leave after. */
  stop(how: "clean" | "crash"): void {
    if (this.#stopped) return
    if (how === "clean") this.#pump()
    this.#stopped = true
    const clock = this.#options.clock
    if (this.#flushTimer !== null) clock.clearTimeout(this.#flushTimer)
    if (this.#retryTimer !== null) clock.clearTimeout(this.#retryTimer)
    this.#flushTimer = null
    this.#retryTimer = null
    const link = this.#link
    this.#link = null
    const unsent = this.#queue.length
    this.#queue = []
    if (link !== null) void link.close()
    if (this.#state !== "idle") {
      this.#setState("stopped", how === "clean" ? `the analyzer stopped; ${unsent} logs were not forwarded` : `the analyzer was killed; ${unsent} queued logs are lost`)
    }
  }
}

/**
 * One `fwd-server-type fortianalyzer` entry: OFTP over TLS on TCP/514 to another analyzer, with
 * the FortiGate's OFTP client (`FazLogger` fed "handed" records): HELLO as this analyzer (its
 * serial, hostname, FortiAnalyzer-VM64), every stored log's FortiOS text in order, dropped from
 * its queue only when the other analyzer acknowledges it; a lost link resumes after the other
 * side's `lastSeq`, so nothing is stored twice. The other analyzer authorizes the forwarder as
 * it does any device (`oftp.auto-authorize`, `fazlab ctl authorize`); until then it holds the logs.
 */
class OftpForwardTarget {
  readonly entry: LogForwardEntry
  readonly #logger: FazLogger
  readonly #options: LogForwardOptions
  filtered = 0

  constructor(entry: LogForwardEntry, options: LogForwardOptions) {
    this.entry = entry
    this.#options = options
    const settings: FazLoggerSettings = {
      server: entry.serverAddr,
      serial: null,
      certificateVerification: "disable",
      encAlgorithm: "high",
      sslMinProtoVersion: "default",
      reliable: "enable",
      uploadOption: entry.fwdMaxDelay === "realtime" ? "realtime" : entry.fwdMaxDelay === "1min" ? "1-minute" : "5-minute",
      connTimeout: 10_000,
      monitorKeepalivePeriod: 5000,
      monitorFailureRetryPeriod: entry.retry,
      presharedKey: null,
      rate: 1,
      count: null,
      logs: null,
      queueSize: entry.queueSize,
      fazDiskBufferSize: 0
    }
    const identity = { id: options.analyzer, serial: options.serial, hostname: options.hostname, vdom: "root", platform: PLATFORM.fullName, version: FIRMWARE.version }
    this.#logger = new FazLogger(identity, settings, options.context, "handed")
    this.#logger.start()
  }

  take(texts: ReadonlyArray<string>, filtered: number): void {
    this.filtered += filtered
    if (texts.length === 0) return
    this.#logger.log(texts)
    this.#options.bus.publish({ type: "logs-forwarded", device: this.#options.analyzer, forward: this.entry.serverName, to: this.entry.serverAddr, count: texts.length, total: this.#logger.sent })
  }

  counters(): LogForwardCounters {
    const queued = this.#logger.queued
    return { forwarded: this.#logger.sent - queued - this.#logger.dropped, filtered: this.filtered, dropped: this.#logger.dropped, queued }
  }

  /** A clean stop says CLOSE; a crash cuts the link. What the other analyzer did not acknowledge is not forwarded either way. */
  stop(how: "clean" | "crash"): void {
    const unsent = this.#logger.queued
    if (how === "clean") this.#logger.stop()
    this.#logger.dispose()
    if (unsent > 0) {
      this.#options.bus.publish({
        type: "log-forward",
        device: this.#options.analyzer,
        forward: this.entry.serverName,
        to: this.entry.serverAddr,
        state: "stopped",
        reason: `the analyzer ${how === "clean" ? "stopped" : "was killed"}; ${unsent} logs ${this.entry.serverAddr} had not acknowledged were not forwarded`
      })
    }
  }
}

/** Every `log-forward` entry of one analyzer; started with it, stopped with it. */
export class LogForwarder {
  readonly #options: LogForwardOptions
  #targets: ReadonlyArray<ForwardTarget> = []
  #oftp: ReadonlyArray<OftpForwardTarget> = []

  constructor(options: LogForwardOptions) {
    this.#options = options
  }

  get active(): boolean {
    return this.#targets.length + this.#oftp.length > 0
  }

  start(): void {
    const forwarding = this.#options.entries.filter((entry) => entry.mode === "forwarding")
    this.#targets = forwarding.filter((entry) => entry.fwdServerType !== "fortianalyzer").map((entry) => new ForwardTarget(entry, this.#options))
    this.#oftp = forwarding.filter((entry) => entry.fwdServerType === "fortianalyzer").map((entry) => new OftpForwardTarget(entry, this.#options))
  }

  /** Logs the analyzer just stored (syslog, HTTPS, authorized OFTP records). */
  stored(batch: ReadonlyArray<LogRecordInput>): void {
    if (!this.active) return
    const logs = batch.map((record) => this.#input(record))
    for (const target of this.#oftp) {
      const { entry } = target
      const texts = logs.filter(({ input, fields }) => passesDeviceFilter(entry.deviceFilter, input.devid, input.devname) && passesLogFilter(entry, fields)).map(({ input }) => input.text)
      target.take(texts, logs.length - texts.length)
    }
    for (const target of this.#targets) {
      const { entry } = target
      const facility = FACILITIES[entry.fwdFacility]
      const messages: Buffer[] = []
      for (const { input, fields } of logs) {
        if (!passesDeviceFilter(entry.deviceFilter, input.devid, input.devname) || !passesLogFilter(entry, fields)) continue
        messages.push(entry.fwdServerType === "cef" ? encodeForwardedCef(input, facility) : encodeForwardedSyslog(input, entry.fwdSyslogFormat, facility))
      }
      target.take(messages, logs.length - messages.length)
    }
  }

  #input(record: LogRecordInput): { readonly input: ForwardedLogInput; readonly fields: ReadonlyMap<string, string> } {
    const { fields, text } = fieldsOf(record)
    const byName = new Map(fields)
    const devid = record.devid ?? byName.get("devid") ?? ""
    const known = devid === "" ? undefined : this.#options.devices.get(devid)
    const version = known?.version ?? "unknown"
    const input: ForwardedLogInput = {
      fields,
      text,
      receivedAt: record.receivedAt,
      devid,
      devname: byName.get("devname") ?? record.device,
      logver: byName.get("logver") ?? logverOf(version) ?? "0",
      facility: record.facility,
      severity: record.severity,
      platform: known?.platform ?? "FortiGate",
      version
    }
    return { input, fields: byName }
  }

  counters(serverName: string): LogForwardCounters | undefined {
    const oftp = this.#oftp.find((t) => t.entry.serverName === serverName)
    if (oftp !== undefined) return oftp.counters()
    const target = this.#targets.find((t) => t.entry.serverName === serverName)
    return target === undefined ? undefined : { forwarded: target.forwarded, filtered: target.filtered, dropped: target.dropped, queued: target.queued }
  }

  /** A clean stop sends what waits first; a crash loses it. */
  stop(how: "clean" | "crash"): void {
    for (const target of this.#targets) target.stop(how)
    for (const target of this.#oftp) target.stop(how)
    this.#oftp = []
  }
}
