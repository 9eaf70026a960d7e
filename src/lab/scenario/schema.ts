/**
 * The scenario file format (v1) as an Effect Schema: a codec from the YAML file's shape (kebab-case
 * keys, durations such as "5s", rates such as "50/s", ports such as "tcp/514") to the `Scenario`
 * the lab runs (camelCase, milliseconds, logs per second, every default applied).
 *
 * The encoded side is the file format and is exported as JSON Schema for editors (see load.ts).
 * Checks carry an `expected` annotation: the loader turns it into "expected X, got Y" sentences.
 * Cross-references between devices and steps are checked by the loader after decoding.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as SchemaGetter from "effect/SchemaGetter"
import * as SchemaIssue from "effect/SchemaIssue"
import type { AnalyzerHttpsSettings, AnalyzerOftpSettings, AnalyzerSyslogSettings } from "../../devices/fortianalyzer/analyzer.ts"
import type { AnalyzerSnmpSettings } from "../../devices/fortianalyzer/analyzer.ts"
import type { LogForwardEntry } from "../../devices/fortianalyzer/log-forward.ts"
import { FORTINET_TRAP_NAMES, type FortinetTrapName, SNMP_EVENTS } from "../../protocols/snmp/fortinet-traps.ts"
import type { MalformedReason, PortKey } from "../../events/events.ts"

// ---------------------------------------------------------------------------------------------
// Decoded types
// ---------------------------------------------------------------------------------------------

export const FacilityNames = [
  "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp",
  "ntp", "audit", "alert", "clock", "local0", "local1", "local2", "local3", "local4", "local5",
  "local6", "local7"
] as const
export const FacilityName = Schema.Literals(FacilityNames)
export type FacilityName = typeof FacilityName.Type

export const LogKinds = [
  "traffic-forward", "traffic-local", "event-system", "event-vpn", "event-user", "utm-webfilter",
  "utm-ips", "utm-virus", "utm-app-ctrl"
] as const
export const LogKind = Schema.Literals(LogKinds)
export type LogKind = typeof LogKind.Type

const malformedReasons = [
  "frame-too-large", "bad-octet-count", "invalid-utf8", "truncated", "bad-pri", "binary-garbage", "empty", "bad-json"
] as const satisfies ReadonlyArray<MalformedReason>

export const DeviceKinds = ["fortianalyzer", "fortigate", "forticlient", "fortimanager"] as const
export type DeviceKind = (typeof DeviceKinds)[number]

/** FortiOS / FortiAnalyzer TLS knobs: `enc-algorithm` and `ssl-min-proto-version`. */
export type EncAlgorithm = "high" | "high-medium" | "low"
export type SslMinProtoVersion = "default" | "TLSv1-2" | "TLSv1-3"

/** An analyzer's own HA settings (FortiOS `config system ha` names); used when it is in an `ha` group. */
export interface AnalyzerHaSettings {
  /** `priority`: 80 (lowest) to 120 (highest). */
  readonly priority: number
  readonly preferredRole: "primary" | "secondary"
}

export interface AnalyzerDevice {
  readonly kind: "fortianalyzer"
  readonly serial: string
  readonly syslog: AnalyzerSyslogSettings
  readonly https: AnalyzerHttpsSettings
  readonly oftp: AnalyzerOftpSettings
  /** Absent: priority 100, preferred-role secondary. */
  readonly ha?: AnalyzerHaSettings
  /** `config system log-forward` entries; their `device-filter` names lab device ids, serials or device names. */
  readonly logForward: ReadonlyArray<LogForwardEntry>
  readonly snmp: AnalyzerSnmpSettings
}

/** An HA group of analyzers (FortiOS `config system ha` names; docs/protocols/ha.md). */
export interface HaGroupSpec {
  /** 2 to 4 analyzer ids. */
  readonly members: ReadonlyArray<string>
  /** `group-id`, 1-255. */
  readonly groupId: number
  /** `group-name`; null: the group's key. */
  readonly groupName: string | null
  /** `hb-interval` in ms: 1-20 s as FortiOS; 100 ms and up, fazlab only, for fast CI. */
  readonly hbInterval: number
  readonly hbLostThreshold: number
  /** The group has a virtual IP (its own loopback address) that the acting primary holds. */
  readonly vip: boolean
}

/** A FortiGate's `config log fortianalyzer setting` (FortiOS names), plus the log generator's rate. */
export interface FortiAnalyzerLogSettings {
  readonly server: string
  /** The analyzer serials this FortiGate accepts (`serial`); null accepts any when verification is off. */
  readonly serial: ReadonlyArray<string> | null
  readonly certificateVerification: "enable" | "disable"
  readonly encAlgorithm: EncAlgorithm
  readonly sslMinProtoVersion: SslMinProtoVersion
  /** enable: OFTP over TLS on TCP/514; disable: logs over UDP/514, unencrypted. */
  readonly reliable: "enable" | "disable"
  readonly uploadOption: "realtime" | "1-minute" | "5-minute" | "store-and-upload"
  /** Milliseconds. */
  readonly connTimeout: number
  readonly monitorKeepalivePeriod: number
  readonly monitorFailureRetryPeriod: number
  readonly presharedKey: string | null
  readonly rate: number
  readonly count: number | null
  readonly logs: ReadonlyArray<LogKind> | null
  /** Records the memory queue holds before spilling to disk or dropping the oldest. */
  readonly queueSize: number
  /** `config system global` `faz-disk-buffer-size`, in MB; 0 = memory only. */
  readonly fazDiskBufferSize: number
}

export interface SyslogSenderSettings {
  readonly server: string
  readonly mode: "udp" | "reliable" | "legacy-reliable"
  readonly format: "default" | "rfc5424"
  readonly facility: FacilityName
  readonly port: number
  /** Logs per second. */
  readonly rate: number
  readonly count: number | null
  readonly logs: ReadonlyArray<LogKind> | null
}

export interface FortiGateDevice {
  readonly kind: "fortigate"
  readonly serial: string
  readonly hostname: string
  readonly vdom: string
  readonly platform: string
  readonly version: string
  readonly autostart: boolean
  readonly syslog: SyslogSenderSettings | null
  readonly fortianalyzer: FortiAnalyzerLogSettings | null
  /** `config system central-management` (type fortimanager): FGFM to a FortiManager on TCP/541. */
  readonly centralManagement: CentralManagementSettings | null
}

/** A FortiGate's `config system central-management`; times in milliseconds (whole seconds on the wire). */
export interface CentralManagementSettings {
  /** `fmg`: a FortiManager of the lab, or host / host:port outside it. */
  readonly fmg: string
  readonly encAlgorithm: "default" | "high" | "low"
  /** FGFM `keepalive_interval` and `sock_timeout` (300 s / 900 s). */
  readonly keepaliveInterval: number
  readonly sockTimeout: number
  /** fazlab's: bounds connect + TLS + register reply, and the wait before a new attempt. */
  readonly connectTimeout: number
  readonly retryInterval: number
}

/** The FortiManager's FGFM side (fazlab names where FortiManager has none; see docs/protocols/fgfm.md). */
export interface FortiManagerFgfmSettings {
  /** `config system global` `fgfm-ssl-protocol`: the lowest TLS version accepted. */
  readonly fgfmSslProtocol: "tlsv1.2" | "tlsv1.3"
  /** Authorize every FortiGate that registers (a lab shortcut). */
  readonly autoAuthorize: boolean
  readonly maxMessageBytes: number
  readonly maxConnections: number
  /** Milliseconds from TCP accept to the end of the TLS handshake, and from there to request=register. */
  readonly handshakeTimeout: number
  readonly registerTimeout: number
}

export interface FortiManagerDevice {
  readonly kind: "fortimanager"
  readonly serial: string
  readonly hostname: string
  readonly platform: string
  readonly version: string
  readonly fgfm: FortiManagerFgfmSettings
  /** Its own logs: syslog, and/or OFTP to an analyzer (the FortiGate's settings). */
  readonly syslog: SyslogSenderSettings | null
  readonly fortianalyzer: FortiAnalyzerLogSettings | null
}

/** The schema limits a FortiClient's syslog `mode` to udp | reliable. */
export interface FortiClientDevice {
  readonly kind: "forticlient"
  readonly serial: string
  readonly hostname: string
  readonly autostart: boolean
  readonly syslog: SyslogSenderSettings | null
  /** FortiClient for Chromebook: logs as JSON over HTTPS to the analyzer's TCP/8443. */
  readonly chromebook: { readonly server: string; readonly rate: number; readonly count: number | null } | null
  /** Joins the analyzer's Security Fabric over TLS/443. */
  readonly fabric: { readonly server: string } | null
}

export type DeviceSpec = AnalyzerDevice | FortiGateDevice | FortiClientDevice | FortiManagerDevice

export interface SendRaw {
  readonly to: string
  readonly port: PortKey
  readonly payload: Uint8Array
  readonly repeat: number
}

export type Action =
  | { readonly start: string }
  | { readonly stop: string }
  | { readonly pause: string }
  | { readonly resume: string }
  | { readonly burst: { readonly device: string; readonly count: number } }
  | { readonly sendRaw: SendRaw }
  | { readonly kill: string }
  | { readonly restart: string }
  /** Cuts HA traffic between two members of one group, both ways (both stay up). */
  | { readonly partition: MemberPair }
  /** `heal` restores both a partition and degraded heartbeats. */
  | { readonly heal: MemberPair }
  /** Heartbeats between two members arrive late (`hbDelay` ms) and/or some not at all (`hbLoss` %). */
  | { readonly degrade: { readonly members: MemberPair; readonly hbDelay: number; readonly hbLoss: number } }
  /** An HA member stays alive but silent (a hung process) until `thaw`. */
  | { readonly freeze: string }
  | { readonly thaw: string }
  | { readonly authorize: { readonly analyzer: string | null; readonly device: string; readonly adom: string | null } }
  | { readonly deleteDevice: { readonly analyzer: string | null; readonly device: string } }
  /** Sets an analyzer's emulated CPU, memory and log-disk usage (percent): what its threshold traps watch. */
  | { readonly load: { readonly device: string; readonly cpu?: number; readonly memory?: number; readonly logDisk?: number } }

/** Two members of one HA group, e.g. ["faz-a", "faz-b"]. */
export type MemberPair = readonly [string, string]

export interface PortOfDevice {
  readonly device: string
  readonly port: PortKey
}

export interface LogsExpectation {
  readonly analyzer: string | null
  readonly from: string
  readonly exactly?: number
  readonly atLeast?: number
  readonly lost?: number
  readonly duplicated?: number
}

export interface MalformedExpectation {
  readonly device: string
  readonly exactly?: number
  readonly atLeast?: number
  readonly reason?: MalformedReason
}

/** A FortiGate in a FortiManager's device list: `registered` = its FGFM session is up (pending or authorized). */
export interface ManagedExpectation {
  readonly manager: string
  readonly device: string
  readonly is: "unknown" | "registered" | "pending" | "authorized" | "offline"
}

export interface RegistrationExpectation {
  readonly analyzer: string | null
  readonly device: string
  readonly is: "unknown" | "unauthorized" | "authorized"
  readonly adom: string | null
}

/** How many members of an HA group accept on TCP/5199 (act as primary), seen from outside. */
export interface PrimariesExpectation {
  readonly group: string
  readonly exactly: number
}

/** What an analyzer forwarded to one of its `log-forward` servers (by `server-name`). */
export interface ForwardedExpectation {
  readonly analyzer: string
  readonly server: string
  readonly exactly?: number
  readonly atLeast?: number
}

/** SNMP traps an analyzer sent (each version and host counts), of one MIB name or of any. */
export interface TrapExpectation {
  readonly analyzer: string
  readonly name?: FortinetTrapName
  readonly exactly?: number
  readonly atLeast?: number
}

/** The HA role an analyzer acts in right now. */
export interface RoleExpectation {
  readonly device: string
  readonly is: "primary" | "secondary"
}

export type Expectation =
  | { readonly role: RoleExpectation }
  | { readonly primaries: PrimariesExpectation }
  | { readonly registration: RegistrationExpectation }
  | { readonly managed: ManagedExpectation }
  | { readonly listening: PortOfDevice }
  | { readonly notListening: PortOfDevice }
  | { readonly logs: LogsExpectation }
  | { readonly malformed: MalformedExpectation }
  | { readonly forwarded: ForwardedExpectation }
  | { readonly trap: TrapExpectation }

export interface Step {
  readonly title: string | null
  /** Lab time in ms at which the step starts, or null. */
  readonly at: number | null
  /** Delay in ms after the previous step finished, or null. */
  readonly after: number | null
  readonly action: Action | null
  readonly expect: ReadonlyArray<Expectation>
  /** Deadline in ms for the expectations; 0 = checked once. */
  readonly within: number
}

/** `devices` keeps the file's order (a Map iterates in insertion order). */
export interface Scenario {
  readonly name: string
  readonly description: string | null
  readonly devices: ReadonlyMap<string, DeviceSpec>
  /** HA groups by key; a sender's `server` may name one (it then means the group's virtual IP). */
  readonly ha: Readonly<Record<string, HaGroupSpec>>
  /** Lab time runs this many times faster than the wall clock (1: real time); `--speed` overrides it. */
  readonly speed: number
  /** `simulated`: lab time jumps to the next timer whenever the lab is idle (`fazlab run` only); `--clock` overrides it. */
  readonly clock: "real" | "simulated"
  readonly steps: ReadonlyArray<Step>
}

// ---------------------------------------------------------------------------------------------
// Building blocks
// ---------------------------------------------------------------------------------------------

/** An optional key that decodes to `null` when absent (and encodes `null` back to an absent key). */
const orNull = <S extends Schema.Top>(schema: S) =>
  Schema.optionalKey(schema).pipe(
    Schema.decodeTo(Schema.NullOr(Schema.toType(schema)), {
      decode: SchemaGetter.transformOptional((o: Option.Option<S["Type"]>) => Option.some(Option.getOrNull(o))),
      encode: SchemaGetter.transformOptional((o: Option.Option<S["Type"] | null>) =>
        Option.filter(o, (value): value is S["Type"] => value !== null)
      )
    })
  )

/** An optional key with a default given in the file's own notation. */
const withDefault = <S extends Schema.Top>(schema: S, value: S["Encoded"]) =>
  schema.pipe(Schema.withDecodingDefaultKey(Effect.succeed(value)))

/** A whole number from `minimum` (to `maximum`, when given). */
const wholeNumber = (minimum: number, maximum?: number) => {
  const expected = maximum === undefined ? `a whole number of ${minimum} or more` : `a whole number from ${minimum} to ${maximum}`
  return Schema.Number.check(
    Schema.isInt({ expected }),
    maximum === undefined
      ? Schema.isGreaterThanOrEqualTo(minimum, { expected })
      : Schema.isBetween({ minimum, maximum }, { expected })
  )
}

const count = wholeNumber(0)
const positiveCount = wholeNumber(1)

const NonEmpty = Schema.String.check(Schema.isMinLength(1, { expected: "a non-empty text" }))

const idPattern = /^[a-z0-9][a-z0-9-]*$/u

export const Id = Schema.String.check(
  Schema.isPattern(idPattern, { expected: "an id of lowercase letters, digits and dashes such as \"fgt-1\"" })
)

const durationPattern = /^(\d+(?:\.\d+)?)(ms|s|m)$/u
const durationUnits: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000 }

/** "500ms" | "5s" | "2m" → milliseconds. */
export const Duration = Schema.String.check(
  Schema.isPattern(durationPattern, { expected: "a duration such as \"500ms\", \"5s\" or \"2m\"" })
).pipe(
  Schema.decodeTo(Schema.Number, {
    decode: SchemaGetter.transform((text: string) => {
      const [, amount = "0", unit = "ms"] = durationPattern.exec(text) ?? []
      return Math.round(Number(amount) * (durationUnits[unit] ?? 1))
    }),
    encode: SchemaGetter.transform((ms: number) => `${ms}ms`)
  })
)

const ratePattern = /^(\d+(?:\.\d+)?)\/(s|m)$/u

/** "50/s" | "600/m" → logs per second (> 0). */
export const Rate = Schema.String.check(
  Schema.isPattern(ratePattern, { expected: "a rate above zero such as \"50/s\" or \"600/m\"" }),
  Schema.makeFilter((text: string) => !/^[0.]+\//u.test(text), {
    expected: "a rate above zero such as \"50/s\" or \"600/m\""
  })
).pipe(
  Schema.decodeTo(Schema.Number, {
    decode: SchemaGetter.transform((text: string) => {
      const [, amount = "0", unit = "s"] = ratePattern.exec(text) ?? []
      return unit === "m" ? Number(amount) / 60 : Number(amount)
    }),
    encode: SchemaGetter.transform((perSecond: number) => `${perSecond}/s`)
  })
)

const portPattern = /^(?:tcp|udp)\/(\d{1,5})$/u
const portExpected = "a port such as \"tcp/514\" or \"udp/514\" (1 to 65535)"

/** "tcp/514" | "udp/514": a documented port, as the vendor's port table names it. */
export const Port = Schema.TemplateLiteral([Schema.Literals(["tcp", "udp"]), "/", Schema.Number]).annotate({
  expected: portExpected
}).check(
  Schema.makeFilter((text: PortKey) => {
    const digits = portPattern.exec(text)?.[1]
    return digits !== undefined && Number(digits) >= 1 && Number(digits) <= 65535
  }, { expected: portExpected, toJsonSchema: () => ({ pattern: portPattern.source }) })
)

// ---------------------------------------------------------------------------------------------
// Devices
// ---------------------------------------------------------------------------------------------

const hostPattern = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/u

/** A device id of the lab, or host / host:port outside it (told apart by the loader). */
const Server = Schema.String.check(
  Schema.isPattern(hostPattern, { expected: "a device id of the lab, or host or host:port outside it" })
)

const senderFields = {
  server: Server,
  format: withDefault(Schema.Literals(["default", "rfc5424"]), "default"),
  facility: withDefault(FacilityName, "local7"),
  port: withDefault(wholeNumber(1, 65535), 514),
  rate: withDefault(Rate, "10/s"),
  count: orNull(positiveCount),
  logs: orNull(Schema.Array(LogKind).check(Schema.isMinLength(1, { expected: "a list of at least one log kind" })))
}

const SyslogSender = Schema.Struct({
  ...senderFields,
  mode: withDefault(Schema.Literals(["udp", "reliable", "legacy-reliable"]), "udp")
})

const FortiClientSyslogSender = Schema.Struct({
  ...senderFields,
  mode: withDefault(Schema.Literals(["udp", "reliable"]), "udp")
})

const AnalyzerSyslog = Schema.Struct({
  maxFrameBytes: withDefault(wholeNumber(480, 16_777_216), 65_536),
  udpReceiveBuffer: withDefault(wholeNumber(1, 2_147_483_647), 4_194_304),
  maxConnections: withDefault(wholeNumber(1, 1_000_000), 1024),
  firstByteTimeout: withDefault(Duration, "120s")
}).pipe(Schema.encodeKeys({
  maxFrameBytes: "max-frame-bytes",
  udpReceiveBuffer: "udp-receive-buffer",
  maxConnections: "max-connections",
  firstByteTimeout: "first-byte-timeout"
}))

const AnalyzerHttps = Schema.Struct({
  maxConnections: withDefault(wholeNumber(1, 1_000_000), 1024)
}).pipe(Schema.encodeKeys({ maxConnections: "max-connections" }))

const EncAlgorithmSchema = Schema.Literals(["high", "high-medium", "low"])
const SslMinProtoVersionSchema = Schema.Literals(["default", "TLSv1-2", "TLSv1-3"])

const AnalyzerOftp = Schema.Struct({
  psk: orNull(NonEmpty),
  autoAuthorize: withDefault(Schema.Boolean, false),
  encAlgorithm: withDefault(EncAlgorithmSchema, "high"),
  sslMinProtoVersion: withDefault(SslMinProtoVersionSchema, "default"),
  maxFrameBytes: withDefault(wholeNumber(1024, 67_108_864), 1_048_576),
  handshakeTimeout: withDefault(Duration, "10s"),
  helloTimeout: withDefault(Duration, "10s")
}).pipe(Schema.encodeKeys({
  autoAuthorize: "auto-authorize",
  encAlgorithm: "enc-algorithm",
  sslMinProtoVersion: "ssl-min-proto-version",
  maxFrameBytes: "max-frame-bytes",
  handshakeTimeout: "handshake-timeout",
  helloTimeout: "hello-timeout"
}))

const AnalyzerHa = Schema.Struct({
  priority: withDefault(wholeNumber(80, 120), 100),
  preferredRole: withDefault(Schema.Literals(["primary", "secondary"]), "secondary")
}).pipe(Schema.encodeKeys({ preferredRole: "preferred-role" }))

const LogForwardDeviceFilter = Schema.Struct({
  device: Schema.ArrayEnsure(NonEmpty),
  action: withDefault(Schema.Literals(["include", "exclude"]), "include")
})

const LogForwardLogFilter = Schema.Struct({
  field: NonEmpty,
  oper: withDefault(Schema.Literals(["=", "!=", "contain", "not-contain"]), "="),
  value: Schema.String
})

/** One `config system log-forward` entry, FortiAnalyzer's names; `queue-size` and `retry` are fazlab's. */
const LogForwardEntryFile = Schema.Struct({
  id: wholeNumber(1, 9999),
  serverName: NonEmpty,
  mode: withDefault(Schema.Literals(["forwarding", "disable"]), "forwarding"),
  fwdServerType: withDefault(Schema.Literals(["syslog", "cef"]), "syslog"),
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
  queueSize: withDefault(wholeNumber(1, 10_000_000), 100_000),
  retry: withDefault(Duration, "5s")
}).pipe(Schema.encodeKeys({
  serverName: "server-name",
  fwdServerType: "fwd-server-type",
  serverAddr: "server-addr",
  serverPort: "server-port",
  fwdReliable: "fwd-reliable",
  fwdFacility: "fwd-facility",
  fwdSyslogFormat: "fwd-syslog-format",
  fwdMaxDelay: "fwd-max-delay",
  deviceFilter: "device-filter",
  logFilterStatus: "log-filter-status",
  logFilterLogic: "log-filter-logic",
  logFilter: "log-filter",
  queueSize: "queue-size"
}))

const Enable = Schema.Literals(["enable", "disable"])

/** `config system snmp sysinfo`: the thresholds of the threshold traps (`log-disk-threshold` is fazlab's). */
const SnmpSysinfo = Schema.Struct({
  trapHighCpuThreshold: withDefault(wholeNumber(1, 100), 80),
  trapLowMemoryThreshold: withDefault(wholeNumber(1, 100), 80),
  logDiskThreshold: withDefault(wholeNumber(1, 100), 90)
}).pipe(Schema.encodeKeys({
  trapHighCpuThreshold: "trap-high-cpu-threshold",
  trapLowMemoryThreshold: "trap-low-memory-threshold",
  logDiskThreshold: "log-disk-threshold"
}))

/** One `config system snmp community` entry; `hosts` are lab devices or hosts outside the lab. */
const SnmpCommunityFile = Schema.Struct({
  id: wholeNumber(1, 9999),
  name: NonEmpty,
  status: withDefault(Enable, "enable"),
  trapV1Status: withDefault(Enable, "enable"),
  trapV2cStatus: withDefault(Enable, "enable"),
  trapV1Rport: withDefault(wholeNumber(1, 65535), 162),
  trapV2cRport: withDefault(wholeNumber(1, 65535), 162),
  hosts: Schema.Array(Server).check(Schema.isMinLength(1, { expected: "a list of at least one trap receiver" })),
  events: withDefault(Schema.Array(Schema.Literals(SNMP_EVENTS)), [...SNMP_EVENTS])
}).pipe(Schema.encodeKeys({
  trapV1Status: "trap-v1-status",
  trapV2cStatus: "trap-v2c-status",
  trapV1Rport: "trap-v1-rport",
  trapV2cRport: "trap-v2c-rport"
}))

const AnalyzerSnmp = Schema.Struct({
  sysinfo: withDefault(SnmpSysinfo, {}),
  community: withDefault(Schema.Array(SnmpCommunityFile).check(Schema.isMaxLength(3, { expected: "at most 3 communities, as FortiAnalyzer allows" })), [])
})

const AnalyzerFile = Schema.Struct({
  kind: Schema.Literal("fortianalyzer"),
  serial: Schema.optionalKey(NonEmpty),
  syslog: withDefault(AnalyzerSyslog, {}),
  https: withDefault(AnalyzerHttps, {}),
  oftp: withDefault(AnalyzerOftp, {}),
  ha: Schema.optionalKey(AnalyzerHa),
  logForward: withDefault(Schema.Array(LogForwardEntryFile), []),
  snmp: withDefault(AnalyzerSnmp, {})
}).pipe(Schema.encodeKeys({ logForward: "log-forward" }))

const FortiAnalyzerLog = Schema.Struct({
  server: Server,
  serial: orNull(Schema.ArrayEnsure(NonEmpty)),
  certificateVerification: withDefault(Schema.Literals(["enable", "disable"]), "enable"),
  encAlgorithm: withDefault(EncAlgorithmSchema, "high"),
  sslMinProtoVersion: withDefault(SslMinProtoVersionSchema, "default"),
  reliable: withDefault(Schema.Literals(["enable", "disable"]), "enable"),
  uploadOption: withDefault(Schema.Literals(["realtime", "1-minute", "5-minute", "store-and-upload"]), "realtime"),
  connTimeout: withDefault(Duration, "10s"),
  monitorKeepalivePeriod: withDefault(Duration, "5s"),
  monitorFailureRetryPeriod: withDefault(Duration, "5s"),
  presharedKey: orNull(NonEmpty),
  rate: withDefault(Rate, "10/s"),
  count: orNull(positiveCount),
  logs: orNull(Schema.Array(LogKind).check(Schema.isMinLength(1, { expected: "a list of at least one log kind" }))),
  queueSize: withDefault(wholeNumber(1, 100_000_000), 100_000),
  fazDiskBufferSize: withDefault(wholeNumber(0, 1_000_000), 0)
}).pipe(Schema.encodeKeys({
  certificateVerification: "certificate-verification",
  encAlgorithm: "enc-algorithm",
  sslMinProtoVersion: "ssl-min-proto-version",
  uploadOption: "upload-option",
  connTimeout: "conn-timeout",
  monitorKeepalivePeriod: "monitor-keepalive-period",
  monitorFailureRetryPeriod: "monitor-failure-retry-period",
  presharedKey: "preshared-key",
  queueSize: "queue-size",
  fazDiskBufferSize: "faz-disk-buffer-size"
}))

const CentralManagement = Schema.Struct({
  fmg: Server,
  encAlgorithm: withDefault(Schema.Literals(["default", "high", "low"]), "high"),
  keepaliveInterval: withDefault(Duration, "300s"),
  sockTimeout: withDefault(Duration, "900s"),
  connectTimeout: withDefault(Duration, "10s"),
  retryInterval: withDefault(Duration, "10s")
}).pipe(Schema.encodeKeys({
  encAlgorithm: "enc-algorithm",
  keepaliveInterval: "keepalive-interval",
  sockTimeout: "sock-timeout",
  connectTimeout: "connect-timeout",
  retryInterval: "retry-interval"
}))

const FortiManagerFgfm = Schema.Struct({
  fgfmSslProtocol: withDefault(Schema.Literals(["tlsv1.2", "tlsv1.3"]), "tlsv1.2"),
  autoAuthorize: withDefault(Schema.Boolean, false),
  maxMessageBytes: withDefault(wholeNumber(512, 16_777_216), 65_536),
  maxConnections: withDefault(wholeNumber(1, 1_000_000), 1024),
  handshakeTimeout: withDefault(Duration, "10s"),
  registerTimeout: withDefault(Duration, "10s")
}).pipe(Schema.encodeKeys({
  fgfmSslProtocol: "fgfm-ssl-protocol",
  autoAuthorize: "auto-authorize",
  maxMessageBytes: "max-message-bytes",
  maxConnections: "max-connections",
  handshakeTimeout: "handshake-timeout",
  registerTimeout: "register-timeout"
}))

const FortiManagerFile = Schema.Struct({
  kind: Schema.Literal("fortimanager"),
  serial: Schema.optionalKey(NonEmpty),
  hostname: Schema.optionalKey(NonEmpty),
  platform: withDefault(NonEmpty, "FortiManager-VM64"),
  version: withDefault(NonEmpty, "v7.4.4"),
  fgfm: withDefault(FortiManagerFgfm, {}),
  syslog: orNull(SyslogSender),
  fortianalyzer: orNull(FortiAnalyzerLog)
})

const FortiGateFile = Schema.Struct({
  kind: Schema.Literal("fortigate"),
  serial: Schema.optionalKey(NonEmpty),
  hostname: Schema.optionalKey(NonEmpty),
  vdom: withDefault(NonEmpty, "root"),
  platform: withDefault(NonEmpty, "FortiGate-60F"),
  version: withDefault(NonEmpty, "v7.4.4"),
  autostart: withDefault(Schema.Boolean, true),
  syslog: orNull(SyslogSender),
  fortianalyzer: orNull(FortiAnalyzerLog),
  centralManagement: orNull(CentralManagement)
}).pipe(Schema.encodeKeys({ centralManagement: "central-management" }))

const ChromebookSender = Schema.Struct({
  server: Server,
  rate: withDefault(Rate, "10/s"),
  count: orNull(positiveCount)
})

const FortiClientFile = Schema.Struct({
  kind: Schema.Literal("forticlient"),
  serial: Schema.optionalKey(NonEmpty),
  hostname: Schema.optionalKey(NonEmpty),
  autostart: withDefault(Schema.Boolean, true),
  syslog: orNull(FortiClientSyslogSender),
  chromebook: orNull(ChromebookSender),
  fabric: orNull(Schema.Struct({ server: Server }))
})

const DeviceFile = Schema.Union([AnalyzerFile, FortiGateFile, FortiClientFile, FortiManagerFile])
type DeviceFile = typeof DeviceFile.Type

const SenderModel = Schema.NullOr(Schema.toType(SyslogSender))

/** The decoded device, every id-dependent default filled in. */
const DeviceModel = Schema.Union([
  Schema.Struct({
    kind: Schema.Literal("fortianalyzer"),
    serial: Schema.String,
    syslog: Schema.toType(AnalyzerSyslog),
    https: Schema.toType(AnalyzerHttps),
    oftp: Schema.toType(AnalyzerOftp),
    ha: Schema.optionalKey(Schema.toType(AnalyzerHa)),
    logForward: Schema.Array(Schema.toType(LogForwardEntryFile)),
    snmp: Schema.toType(AnalyzerSnmp)
  }),
  Schema.Struct({
    kind: Schema.Literal("fortigate"),
    serial: Schema.String,
    hostname: Schema.String,
    vdom: Schema.String,
    platform: Schema.String,
    version: Schema.String,
    autostart: Schema.Boolean,
    syslog: SenderModel,
    fortianalyzer: Schema.NullOr(Schema.toType(FortiAnalyzerLog)),
    centralManagement: Schema.NullOr(Schema.toType(CentralManagement))
  }),
  Schema.Struct({
    kind: Schema.Literal("forticlient"),
    serial: Schema.String,
    hostname: Schema.String,
    autostart: Schema.Boolean,
    syslog: SenderModel,
    chromebook: Schema.NullOr(Schema.toType(ChromebookSender)),
    fabric: Schema.NullOr(Schema.Struct({ server: Schema.String }))
  }),
  Schema.Struct({
    kind: Schema.Literal("fortimanager"),
    serial: Schema.String,
    hostname: Schema.String,
    platform: Schema.String,
    version: Schema.String,
    fgfm: Schema.toType(FortiManagerFgfm),
    syslog: SenderModel,
    fortianalyzer: Schema.NullOr(Schema.toType(FortiAnalyzerLog))
  })
])

const serialPrefixes: Readonly<Record<DeviceKind, string>> = {
  fortianalyzer: "FAZ-VM",
  fortigate: "FGVM01",
  forticlient: "FCT",
  fortimanager: "FMG-VM"
}

/** The default serial of the n-th device (1-based) of a kind, in file order: FAZ-VM0000000001, FGVM010000000001, FCT0000000001. */
export const defaultSerial = (kind: DeviceKind, n: number): string =>
  `${serialPrefixes[kind]}${String(n).padStart(10, "0")}`

const withIdDefaults = (devices: Readonly<Record<string, DeviceFile>>): ReadonlyMap<string, DeviceSpec> => {
  const seen: Record<DeviceKind, number> = { fortianalyzer: 0, fortigate: 0, forticlient: 0, fortimanager: 0 }
  const result = new Map<string, DeviceSpec>()
  for (const [id, device] of Object.entries(devices)) {
    seen[device.kind] += 1
    const serial = device.serial ?? defaultSerial(device.kind, seen[device.kind])
    result.set(
      id,
      device.kind === "fortianalyzer"
        ? { ...device, serial }
        : { ...device, serial, hostname: device.hostname ?? id }
    )
  }
  return result
}

const Devices = Schema.Record(Id, DeviceFile).annotate({ expected: "a mapping of device ids to devices" }).pipe(
  Schema.decodeTo(Schema.ReadonlyMap(Schema.String, DeviceModel), {
    decode: SchemaGetter.transform(withIdDefaults),
    encode: SchemaGetter.forbiddenEncoding
  })
)

// ---------------------------------------------------------------------------------------------
// Steps
// ---------------------------------------------------------------------------------------------

const hexPattern = /^(?:\s*[0-9A-Fa-f]{2})*\s*$/u

const hexBytes = (hex: string): Uint8Array => Uint8Array.from(hex.replace(/\s+/gu, "").match(/../gu) ?? [], (byte) => parseInt(byte, 16))

const SendRawFile = Schema.Struct({
  to: Id,
  port: Port,
  text: Schema.optionalKey(Schema.String),
  hex: Schema.optionalKey(Schema.String.check(
    Schema.isPattern(hexPattern, { expected: "hexadecimal bytes such as \"3c 31 33 3e\"" })
  )),
  repeat: withDefault(positiveCount, 1)
}).check(
  Schema.makeFilter((raw) =>
    (raw.text === undefined) === (raw.hex === undefined)
      ? new SchemaIssue.InvalidValue({
        expected: "exactly one of text or hex",
        got: raw.text === undefined ? "neither text nor hex" : "both text and hex"
      })
      : undefined
  )
).pipe(
  Schema.decodeTo(
    Schema.Struct({ to: Schema.String, port: Schema.toType(Port), payload: Schema.Uint8Array, repeat: Schema.Number }),
    {
      decode: SchemaGetter.transform((raw: { readonly to: string; readonly port: PortKey; readonly text?: string; readonly hex?: string; readonly repeat: number }) => ({
        to: raw.to,
        port: raw.port,
        payload: raw.hex === undefined ? new TextEncoder().encode(raw.text ?? "") : hexBytes(raw.hex),
        repeat: raw.repeat
      })),
      encode: SchemaGetter.transform((raw: SendRaw) => ({
        to: raw.to,
        port: raw.port,
        hex: Buffer.from(raw.payload).toString("hex"),
        repeat: raw.repeat
      }))
    }
  )
)

/** A mapping with exactly one of `keys`: how an action or an expectation names its kind. */
const exactlyOneKey = (what: string, keys: ReadonlyArray<string>) => ({
  expected: `exactly one ${what}: ${keys.join(", ")}`,
  toJsonSchema: () => ({ minProperties: 1, maxProperties: 1 })
})

const hasOneKey = (value: object): boolean => Object.keys(value).length === 1

const actionKeys = ["start", "stop", "kill", "restart", "pause", "resume", "burst", "send-raw", "authorize", "delete-device", "partition", "heal", "degrade", "freeze", "thaw", "load"]

const memberPair = "a list of two HA members such as [faz-a, faz-b]"

const MemberPairFile = Schema.Array(Id).pipe(
  Schema.refine((ids: ReadonlyArray<string>): ids is MemberPair => ids.length === 2, {
    expected: memberPair,
    toJsonSchema: () => ({ minItems: 2, maxItems: 2 })
  })
).annotate({ expected: memberPair })

const ActionFields = Schema.Struct({
  start: Schema.optionalKey(Id),
  stop: Schema.optionalKey(Id),
  kill: Schema.optionalKey(Id),
  restart: Schema.optionalKey(Id),
  pause: Schema.optionalKey(Id),
  resume: Schema.optionalKey(Id),
  burst: Schema.optionalKey(Schema.Struct({ device: Id, count: positiveCount })),
  sendRaw: Schema.optionalKey(SendRawFile),
  authorize: Schema.optionalKey(Schema.Struct({ analyzer: orNull(Id), device: Id, adom: orNull(NonEmpty) })),
  deleteDevice: Schema.optionalKey(Schema.Struct({ analyzer: orNull(Id), device: Id })),
  partition: Schema.optionalKey(MemberPairFile),
  heal: Schema.optionalKey(MemberPairFile),
  degrade: Schema.optionalKey(Schema.Struct({
    members: MemberPairFile,
    hbDelay: withDefault(Duration, "0s"),
    hbLoss: withDefault(wholeNumber(0, 100), 0)
  }).pipe(Schema.encodeKeys({ hbDelay: "hb-delay", hbLoss: "hb-loss" }))),
  freeze: Schema.optionalKey(Id),
  thaw: Schema.optionalKey(Id),
  load: Schema.optionalKey(Schema.Struct({
    device: Id,
    cpu: Schema.optionalKey(wholeNumber(0, 100)),
    memory: Schema.optionalKey(wholeNumber(0, 100)),
    logDisk: Schema.optionalKey(wholeNumber(0, 100))
  }).pipe(Schema.encodeKeys({ logDisk: "log-disk" })))
}).pipe(Schema.encodeKeys({ sendRaw: "send-raw", deleteDevice: "delete-device" }))

const ActionFile = ActionFields.pipe(
  Schema.refine((value: typeof ActionFields.Type): value is Action => hasOneKey(value), exactlyOneKey("action", actionKeys))
)

const PortOfDeviceFile = Schema.Struct({ device: Id, port: Port })

const exactlyOrAtLeast = (what: string, needOne: boolean) =>
  Schema.makeFilter((value: { readonly exactly?: number; readonly atLeast?: number; readonly lost?: number; readonly duplicated?: number }) => {
    if (value.exactly !== undefined && value.atLeast !== undefined) {
      return { path: ["at-least"], issue: new SchemaIssue.InvalidValue({ expected: "exactly or at-least, not both", got: "both exactly and at-least" }) }
    }
    const counted = [value.exactly, value.atLeast, value.lost, value.duplicated].some((n) => n !== undefined)
    return needOne && !counted
      ? new SchemaIssue.InvalidValue({ expected: what, got: "none of them" })
      : undefined
  })

const LogsFile = Schema.Struct({
  analyzer: orNull(Id),
  from: Id,
  exactly: Schema.optionalKey(count),
  atLeast: Schema.optionalKey(count),
  lost: Schema.optionalKey(count),
  duplicated: Schema.optionalKey(count)
}).pipe(
  Schema.encodeKeys({ atLeast: "at-least" }),
  Schema.check(exactlyOrAtLeast("at least one of exactly, at-least, lost, duplicated", true))
)

const MalformedFile = Schema.Struct({
  device: Id,
  exactly: Schema.optionalKey(count),
  atLeast: Schema.optionalKey(count),
  reason: Schema.optionalKey(Schema.Literals(malformedReasons))
}).pipe(
  Schema.encodeKeys({ atLeast: "at-least" }),
  Schema.check(exactlyOrAtLeast("one of exactly, at-least", true))
)

const expectationKeys = ["role", "primaries", "registration", "listening", "not-listening", "logs", "malformed", "managed", "forwarded", "trap"]

const TrapFile = Schema.Struct({
  analyzer: Id,
  name: Schema.optionalKey(Schema.Literals(FORTINET_TRAP_NAMES)),
  exactly: Schema.optionalKey(count),
  atLeast: Schema.optionalKey(count)
}).pipe(
  Schema.encodeKeys({ atLeast: "at-least" }),
  Schema.check(exactlyOrAtLeast("one of exactly, at-least", true))
)

const ForwardedFile = Schema.Struct({
  analyzer: Id,
  server: NonEmpty,
  exactly: Schema.optionalKey(count),
  atLeast: Schema.optionalKey(count)
}).pipe(
  Schema.encodeKeys({ atLeast: "at-least" }),
  Schema.check(exactlyOrAtLeast("one of exactly, at-least", true))
)

const RegistrationFile = Schema.Struct({
  analyzer: orNull(Id),
  device: Id,
  is: Schema.Literals(["unknown", "unauthorized", "authorized"]),
  adom: orNull(NonEmpty)
})

const ExpectationFields = Schema.Struct({
  role: Schema.optionalKey(Schema.Struct({ device: Id, is: Schema.Literals(["primary", "secondary"]) })),
  primaries: Schema.optionalKey(Schema.Struct({ group: Id, exactly: count })),
  registration: Schema.optionalKey(RegistrationFile),
  listening: Schema.optionalKey(PortOfDeviceFile),
  notListening: Schema.optionalKey(PortOfDeviceFile),
  logs: Schema.optionalKey(LogsFile),
  malformed: Schema.optionalKey(MalformedFile),
  forwarded: Schema.optionalKey(ForwardedFile),
  trap: Schema.optionalKey(TrapFile),
  managed: Schema.optionalKey(Schema.Struct({
    manager: Id,
    device: Id,
    is: Schema.Literals(["unknown", "registered", "pending", "authorized", "offline"])
  }))
}).pipe(Schema.encodeKeys({ notListening: "not-listening" }))

const ExpectationFile = ExpectationFields.pipe(
  Schema.refine(
    (value: typeof ExpectationFields.Type): value is Expectation => hasOneKey(value),
    exactlyOneKey("expectation", expectationKeys)
  )
)

const StepFile = Schema.Struct({
  title: orNull(NonEmpty),
  at: orNull(Duration),
  after: orNull(Duration),
  action: orNull(ActionFile),
  expect: withDefault(Schema.ArrayEnsure(ExpectationFile), []),
  within: withDefault(Duration, "0s")
}).pipe(
  Schema.encodeKeys({ action: "do" }),
  Schema.check(Schema.makeFilter((step) =>
    step.at !== null && step.after !== null
      ? { path: ["after"], issue: new SchemaIssue.InvalidValue({ expected: "either at or after in a step, not both", got: "both at and after" }) }
      : undefined
  ))
)

// ---------------------------------------------------------------------------------------------
// Scenario
// ---------------------------------------------------------------------------------------------

const HaGroupFile = Schema.Struct({
  members: Schema.Array(Id).check(
    Schema.isMinLength(2, { expected: "a list of 2 to 4 analyzer ids" }),
    Schema.isMaxLength(4, { expected: "a list of 2 to 4 analyzer ids" })
  ),
  groupId: withDefault(wholeNumber(1, 255), 1),
  groupName: orNull(NonEmpty),
  /** The range (100 ms to 20 s) is checked by the loader: checks on a decoded duration do not reach the JSON Schema. */
  hbInterval: withDefault(Duration, "1s"),
  hbLostThreshold: withDefault(wholeNumber(1, 255), 3),
  vip: withDefault(Schema.Boolean, true)
}).pipe(Schema.encodeKeys({
  groupId: "group-id",
  groupName: "group-name",
  hbInterval: "hb-interval",
  hbLostThreshold: "hb-lost-threshold"
}))

/** The whole file: decode with `{ errors: "all", onExcessProperty: "error" }`. */
export const Scenario: Schema.Codec<Scenario, unknown> = Schema.Struct({
  name: Id,
  description: orNull(Schema.String),
  devices: Devices,
  ha: withDefault(Schema.Record(Id, HaGroupFile).annotate({ expected: "a mapping of HA group names to groups" }), {}),
  speed: withDefault(Schema.Number.check(Schema.isBetween({ minimum: 1, maximum: 1000 }, { expected: "a speed from 1 (real time) to 1000" })), 1),
  clock: withDefault(Schema.Literals(["real", "simulated"]), "real"),
  steps: withDefault(Schema.Array(StepFile), [])
})
