/**
 * Writing one syslog message the way a FortiGate does, in the three header formats of
 * `config log syslogd setting` / `set format`, plus the facility and level names FortiOS uses.
 *
 * - `default`: `<PRI>` immediately followed by the message (FortiOS' own format: no timestamp or
 *   hostname in the header, the key=value body carries them).
 * - `rfc5424`: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG`, the
 *   timestamp in UTC to the second as FortiOS writes it; a missing field is `-`; SD-PARAM values
 *   escaped (`"`, `\` and `]`); a BOM before MSG when asked.
 * - `rfc3164`: `<PRI>Mmm dd hh:mm:ss HOSTNAME TAG[PID]: MSG` with the timestamp in UTC; without an
 *   app name the `TAG: ` part is left out.
 *
 * The caller supplies valid codes (facility 0-23, severity 0-7), header fields of printable
 * US-ASCII within RFC 5424's lengths and SD names of its SD-NAME characters; empty ones become
 * `-` in RFC 5424. An invalid `Date` is written as `-` in
 * RFC 5424 and as the Unix epoch in RFC 3164 (which has no null timestamp). Framing is
 * `framing.ts`' job.
 */

/** Syslog facility codes by the names `set facility` accepts (plus RFC 5424's `kern`). */
export const FACILITIES = {
  kern: 0,
  kernel: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  ntp: 12,
  audit: 13,
  alert: 14,
  clock: 15,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23
} as const satisfies Record<string, number>

export type FacilityName = keyof typeof FACILITIES

/** FortiOS `level=` names, indexed by syslog severity 0-7. */
export const SEVERITY_NAMES = ["emergency", "alert", "critical", "error", "warning", "notice", "information", "debug"] as const

export type SeverityName = (typeof SEVERITY_NAMES)[number]

/** Syslog severity codes by FortiOS `level=` name. */
export const SEVERITIES: { readonly [name in SeverityName]: number } = {
  emergency: 0,
  alert: 1,
  critical: 2,
  error: 3,
  warning: 4,
  notice: 5,
  information: 6,
  debug: 7
}

import type { SdElement } from "./header.ts"

export type SyslogFormat = "default" | "rfc5424" | "rfc3164"

export interface SyslogEncodeInput {
  readonly format: SyslogFormat
  readonly facility: number
  readonly severity: number
  readonly hostname: string
  readonly appName?: string
  /** RFC 5424 PROCID, RFC 3164 `[PID]` after the TAG. */
  readonly procId?: string
  /** RFC 5424 only. */
  readonly msgId?: string
  /** RFC 5424 only. */
  readonly structuredData?: ReadonlyArray<SdElement>
  /** RFC 5424 only: a BOM before MSG (it is UTF-8). */
  readonly bom?: boolean
  readonly timestamp: Date
  readonly message: string
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"] as const

const two = (n: number): string => (n < 10 ? `0${n}` : `${n}`)

const nil = (value: string | undefined): string => (value === undefined || value.length === 0 ? "-" : value)

/** A PARAM-VALUE with `"`, `\` and `]` escaped. */
const escapeParamValue = (value: string): string => value.replace(/["\\\]]/g, (c) => `\\${c}`)

const structuredData = (elements: ReadonlyArray<SdElement> | undefined): string =>
  elements === undefined || elements.length === 0
    ? "-"
    : elements.map((element) => `[${element.id}${element.params.map((param) => ` ${param.name}="${escapeParamValue(param.value)}"`).join("")}]`).join("")

const rfc5424Timestamp = (date: Date): string =>
  Number.isNaN(date.getTime()) ? "-" : `${date.toISOString().slice(0, 19)}Z`

const rfc3164Timestamp = (timestamp: Date): string => {
  const date = Number.isNaN(timestamp.getTime()) ? new Date(0) : timestamp
  const day = date.getUTCDate()
  return `${MONTHS[date.getUTCMonth()] ?? "Jan"} ${day < 10 ? ` ${day}` : day} ${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())}`
}

export function encodeSyslog(input: SyslogEncodeInput): Buffer {
  const pri = `<${input.facility * 8 + input.severity}>`
  switch (input.format) {
    case "default":
      return Buffer.from(pri + input.message, "utf8")
    case "rfc5424":
      return Buffer.from(
        `${pri}1 ${rfc5424Timestamp(input.timestamp)} ${nil(input.hostname)} ${nil(input.appName)} ${nil(input.procId)} ${nil(input.msgId)} ${structuredData(input.structuredData)} ${input.bom === true ? "\u{feff}" : ""}${input.message}`,
        "utf8"
      )
    case "rfc3164": {
      const pid = input.procId === undefined || input.procId.length === 0 ? "" : `[${input.procId}]`
      const tag = input.appName === undefined || input.appName.length === 0 ? "" : `${input.appName}${pid}: `
      return Buffer.from(`${pri}${rfc3164Timestamp(input.timestamp)} ${input.hostname} ${tag}${input.message}`, "utf8")
    }
  }
}
