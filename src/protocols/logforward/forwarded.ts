/**
 * What a FortiAnalyzer forwards to another collector (`config system log-forward`), one stored
 * log in, one syslog message out: the `syslog` server type in its two `fwd-syslog-format`s and
 * the `cef` server type.
 *
 * Fortinet does not publish the header of forwarded syslog nor where the analyzer puts the
 * fields it adds; fazlab's choice (docs/protocols/log-forward.md) follows the one public CEF
 * sample: an RFC 3164 header whose HOSTNAME is the device that sent the log, then the body. The
 * body is the device's own key=value log, led by the fields the analyzer adds or vouches for:
 * `itime` (when the analyzer received it, epoch seconds), `logver`, `devid`, `devname`; the
 * original fields follow in their order, those four left out.
 *
 * - `fgt`: `<PRI>Mmm dd hh:mm:ss DEVNAME itime=... logver=... devid="..." devname="..." ...`
 * - `rfc-5424`: `<PRI>1 TIMESTAMP DEVNAME - - - - itime=...` (no app name, no structured data).
 * - CEF: `<PRI>Mmm dd hh:mm:ss DEVNAME CEF:0|Fortinet|PLATFORM|VERSION|LOGID|NAME|SEVERITY|EXT`
 *   with the public sample's names (`deviceExternalId`, `dvchost`, `cat`, `src`, `dst`, `spt`,
 *   `dpt`, `act`, ...) and `ad.<field>` for the rest, escaped as the CEF specification says.
 *
 * Pure: no sockets, no clock (`receivedAt` and `now` come in).
 */
import { formatKeyValues } from "../fortios/kv.ts"
import { encodeSyslog, SEVERITIES, type SeverityName } from "../syslog/encode.ts"

/** One stored log as the forwarder sees it. */
export interface ForwardedLogInput {
  /** The device's key=value fields in the order it wrote them, values unquoted (empty when the log was not key=value). */
  readonly fields: ReadonlyArray<readonly [string, string]>
  /** The log's message as the device wrote it (the key=value body, or any other text). */
  readonly text: string
  /** When the analyzer received it, in milliseconds since the epoch (`itime`). */
  readonly receivedAt: number
  readonly devid: string
  readonly devname: string
  /** FortiOS `logver`, e.g. `704042662` (see `logverOf`). */
  readonly logver: string
  readonly facility: number
  readonly severity: number
  /** The sending device's platform and firmware, as the analyzer knows them (CEF's product and version). */
  readonly platform: string
  readonly version: string
}

export type ForwardSyslogFormat = "fgt" | "rfc-5424"

/** The fields the analyzer puts first; the device's own copies of them are left out of the rest. */
const LEADING = new Set(["itime", "logver", "devid", "devname"])

/** One key=value pair as written: bare or double-quoted value (escapes kept), whitespace before it. */
const PAIR = /\s*([A-Za-z0-9_-]+)=("(?:[^"\\]|\\.)*"(?=\s|$)|\S*)/uy

/**
 * The body of a forwarded log: the analyzer's four fields, then the device's own as it wrote them
 * (quoting kept), its copies of those four left out. A body that is not key=value is kept whole
 * as `msg`.
 */
export function forwardedBody(input: ForwardedLogInput): string {
  const head = formatKeyValues([
    ["itime", String(Math.floor(input.receivedAt / 1000))],
    ["logver", Number(input.logver)],
    ["devid", input.devid],
    ["devname", input.devname]
  ])
  const kept: Array<string> = []
  PAIR.lastIndex = 0
  const text = input.text.trimEnd()
  while (PAIR.lastIndex < text.length) {
    const start = PAIR.lastIndex
    const pair = PAIR.exec(text)
    if (pair === null || PAIR.lastIndex === start) return `${head} ${formatKeyValues([["msg", input.text]])}`
    if (!LEADING.has(pair[1] ?? "")) kept.push(`${pair[1]}=${pair[2]}`)
  }
  return kept.length === 0 ? `${head} ${formatKeyValues([["msg", input.text]])}` : `${head} ${kept.join(" ")}`
}

/** A forwarded log as syslog, in one of `fwd-syslog-format`'s two formats. */
export function encodeForwardedSyslog(input: ForwardedLogInput, format: ForwardSyslogFormat, facility: number): Buffer {
  return encodeSyslog({
    format: format === "fgt" ? "rfc3164" : "rfc5424",
    facility,
    severity: input.severity,
    hostname: hostnameOf(input.devname),
    timestamp: new Date(input.receivedAt),
    message: forwardedBody(input)
  })
}

/** CEF field names for the FortiOS fields the public sample maps; the rest become `ad.<field>`. */
const CEF_NAMES: Readonly<Record<string, string>> = {
  srcip: "src",
  dstip: "dst",
  srcport: "spt",
  dstport: "dpt",
  action: "act",
  service: "app",
  type: "cat",
  level: "deviceSeverity",
  user: "duser",
  msg: "msg",
  sentbyte: "out",
  rcvdbyte: "in",
  filename: "fname",
  url: "request",
  hostname: "dhost",
  proto: "ad.proto"
}

/** CEF keeps these out of the extension: they are in the header or led by the analyzer. */
const CEF_SKIPPED = new Set(["devid", "devname", "logver", "itime", "date", "time"])

/** CEF severity (0-10) by FortiOS level: higher is worse, notice is 5 as in the public sample. */
const CEF_SEVERITY: Readonly<Record<SeverityName, number>> = {
  emergency: 10,
  alert: 9,
  critical: 8,
  error: 7,
  warning: 6,
  notice: 5,
  information: 4,
  debug: 3
}

const cefHeader = (value: string): string => value.replaceAll("\\", "\\\\").replaceAll("|", "\\|").replace(/[\r\n]+/gu, " ")

const cefValue = (value: string): string =>
  value.replaceAll("\\", "\\\\").replaceAll("=", "\\=").replaceAll("\r", "\\r").replaceAll("\n", "\\n")

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"] as const

const two = (n: number): string => String(n).padStart(2, "0")

/** CEF `start`: `Mmm dd yyyy hh:mm:ss` in UTC, as the public sample writes it. */
const cefTime = (ms: number): string => {
  const d = new Date(ms)
  return `${MONTHS[d.getUTCMonth()] ?? "Jan"} ${two(d.getUTCDate())} ${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`
}

/** A forwarded log in Common Event Format, version 0, behind an RFC 3164 header. */
export function encodeForwardedCef(input: ForwardedLogInput, facility: number): Buffer {
  const field = new Map(input.fields)
  const level = field.get("level")
  const severity = level !== undefined && level in CEF_SEVERITY ? CEF_SEVERITY[level as SeverityName] : CEF_SEVERITY.notice
  const name = [field.get("subtype"), field.get("type"), field.get("action") ?? field.get("status")].filter((part) => part !== undefined).join(" ")
  const extension: Array<string> = [
    `start=${cefTime(input.receivedAt)}`,
    `logver=${cefValue(input.logver)}`,
    `deviceExternalId=${cefValue(input.devid)}`,
    `dvchost=${cefValue(input.devname)}`
  ]
  if (input.fields.length === 0) extension.push(`msg=${cefValue(input.text)}`)
  for (const [key, value] of input.fields) {
    if (CEF_SKIPPED.has(key)) continue
    extension.push(`${CEF_NAMES[key] ?? `ad.${key}`}=${cefValue(value)}`)
  }
  const header = [
    "CEF:0",
    "Fortinet",
    cefHeader(input.platform),
    cefHeader(input.version),
    cefHeader(field.get("logid") ?? "0000000000"),
    cefHeader(name.length === 0 ? "log" : name),
    String(severity)
  ].join("|")
  return encodeSyslog({
    format: "rfc3164",
    facility,
    severity: level !== undefined && level in SEVERITIES ? SEVERITIES[level as SeverityName] : input.severity,
    hostname: hostnameOf(input.devname),
    timestamp: new Date(input.receivedAt),
    message: `${header}|${extension.join(" ")}`
  })
}

/** A syslog HOSTNAME has no spaces: a device name with some keeps its first word. */
const hostnameOf = (devname: string): string => {
  const word = devname.trim().split(/\s+/u)[0] ?? ""
  return word.length === 0 ? "-" : word
}

/**
 * FortiOS `logver` of a firmware version: `v7.4.4` or `v7.4.4,build2662` → `704042662` (major,
 * two digits of minor, two of patch, four of build; build 0 when the version names none).
 * Null for a version that is not `vMAJOR.MINOR.PATCH`.
 */
export function logverOf(version: string): string | null {
  const match = /^v?(\d{1,2})\.(\d{1,2})\.(\d{1,2})(?:[,\s-]*build\s*(\d{1,4}))?/iu.exec(version.trim())
  if (match === null) return null
  const [, major = "0", minor = "0", patch = "0", build = "0"] = match
  return `${Number(major)}${minor.padStart(2, "0")}${patch.padStart(2, "0")}${build.padStart(4, "0")}`
}
