/**
 * Parsing one syslog message (one frame or one UDP datagram), its format detected per message.
 * docs/protocols/syslog.md lists every rule below with an example.
 *
 * After the `<PRI>`:
 * - `VERSION SP` (1-999) then `- ` or `YYYY-` starts an RFC 5424 header (VERSION TIMESTAMP
 *   HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [SP MSG]), read strictly by the RFC's ABNF:
 *   PRINTUSASCII header fields within their lengths (HOSTNAME 255, APP-NAME 48, PROCID 128,
 *   MSGID 32), a full-date `T` full-time timestamp with a fraction of 1-6 digits and `Z` or
 *   `±hh:mm`, SD-IDs and PARAM-NAMEs of 1-32 SD-NAME characters, `"`, `\` and `]` escaped in
 *   PARAM-VALUEs. A message that claims RFC 5424 and breaks its grammar is malformed
 *   (`bad-rfc5424`, the detail naming the rule), never stored as if parsed;
 * - `name=` (`[a-z_]+=`) is FortiOS' default format, the key=value body right after the PRI;
 * - anything else is RFC 3164, read as the mainstream daemons (rsyslog, syslog-ng) read it:
 *   `TIMESTAMP HOSTNAME TAG[PID]: MSG`, the timestamp `Mmm dd hh:mm:ss` (month in any case,
 *   optionally a year after the time) or RFC 3339; the HOSTNAME a word that is not the TAG (an
 *   IPv6 address too); without a timestamp, no HOSTNAME and the TAG (if any) first.
 * When the MSG of an RFC 5424 or 3164 message is itself FortiOS key=value (FortiOS `set format
 * rfc5424`), `fields` is filled too. FortiOS bodies are read best effort: a body cut in the middle
 * (util-linux `logger` cuts at 1 KiB, UDP paths truncate) or with stray characters keeps its
 * well-formed pairs, and `damage` says what was skipped (`KvDamageReport` of
 * src/protocols/fortios/kv.ts; null for a whole body). A body with no more pairs than stray tokens
 * is not key=value: in the default format it is then read as RFC 3164.
 *
 * Rejected ("malformed"): an empty message, binary data (more than one byte in eight a control
 * character other than TAB, LF and CR), a missing or out-of-range PRI (0-191; 1-3 digits), an
 * RFC 5424 header that breaks the ABNF, and bytes that are not UTF-8 anywhere but in the MSG of
 * an RFC 5424 (without BOM) or RFC 3164 message: such a MSG is kept as bytes (`messageBytes`).
 * A message that starts like FortiOS key=value and is not UTF-8 is refused too.
 * One trailing NUL and trailing CR and LF bytes are ignored.
 *
 * Times: a timestamp without offset (RFC 3164 `Mmm dd hh:mm:ss`) is read as UTC, and without a
 * year as the latest such date no more than 31 days after `now` (Feb 29: of a leap year). `parseSyslog` reads everything;
 * `summarizeSyslog`, the analyzer intake's fast path, gives the same verdict but reads only the
 * header columns and the FortiOS fields it is asked for. Neither throws.
 */
import { isUtf8 } from "node:buffer"
import { isIPv6 } from "node:net"
import type { MalformedReason } from "../../events/events.ts"
import { type KeyPicker, type KvDamageReport, parseKeyValuesBestEffort } from "../fortios/kv.ts"

export type SyslogMessageFormat = "rfc5424" | "rfc3164" | "fortios"

/** One RFC 5424 SD-PARAM, its value with the `\"`, `\\` and `\]` escapes undone. */
export interface SdParam {
  readonly name: string
  readonly value: string
}

/** One RFC 5424 SD-ELEMENT: its SD-ID and its parameters in the order sent (a name may repeat). */
export interface SdElement {
  readonly id: string
  readonly params: ReadonlyArray<SdParam>
}

/** A timestamp as an instant: milliseconds since the epoch, the microseconds beyond them, the offset sent. */
export interface SyslogTime {
  /** Milliseconds since the epoch, rounded down. */
  readonly ms: number
  /** Microseconds past `ms`: 0-999. */
  readonly us: number
  /** The offset the timestamp was written in, minutes east of UTC; null when it had none (read as UTC). */
  readonly offset: number | null
}

/** A syslog header's fields, as `parseSyslog` gives them. */
export interface SyslogHeaderFields {
  /** As written: RFC 5424 `TIMESTAMP`, RFC 3164 `Mmm dd hh:mm:ss [yyyy]` or RFC 3339, FortiOS `date`T`time` plus `tz`. */
  readonly timestamp: string | null
  /** `timestamp` as an instant; null without timestamp or when FortiOS' date and time are no date. */
  readonly time: SyslogTime | null
  /** RFC header HOSTNAME, or FortiOS `devname`. */
  readonly hostname: string | null
  /** RFC 5424 APP-NAME, RFC 3164 TAG. */
  readonly appName: string | null
  /** RFC 5424 PROCID, RFC 3164 `[PID]`. */
  readonly procId: string | null
  readonly msgId: string | null
  /** RFC 5424 STRUCTURED-DATA, escapes undone; null for the NILVALUE and in the other formats. */
  readonly structuredData: ReadonlyArray<SdElement> | null
  /** The RFC 5424 MSG started with a BOM (and so is UTF-8). */
  readonly bom: boolean
}

export interface ParsedSyslog extends SyslogHeaderFields {
  readonly ok: true
  readonly format: SyslogMessageFormat
  readonly facility: number
  readonly severity: number
  /** The MSG (without BOM); when it is not UTF-8, decoded with U+FFFD for what is not. */
  readonly message: string
  /** The MSG's bytes when they are not UTF-8 (then `message` is lossy), else null. */
  readonly messageBytes: Buffer | null
  /** The FortiOS key=value fields when the message body is key=value (best effort: see `damage`). */
  readonly fields: Record<string, string> | null
  /** What a best-effort read of a cut or damaged FortiOS body skipped; null when it was whole, or not key=value. */
  readonly damage: KvDamageReport | null
}

export interface MalformedSyslog {
  readonly ok: false
  readonly reason: MalformedReason
  readonly detail: string
}

const LT = 0x3c
const GT = 0x3e
const SP = 0x20
const COLON = 0x3a
const LBRACKET = 0x5b
const RBRACKET = 0x5d
const QUOTE = 0x22
const BACKSLASH = 0x5c
const EQUALS = 0x3d
const DASH = 0x2d
const BOM = 0xfeff
const MAX_PRI = 191
const MAX_TAG = 48
/** RFC 5424 section 6: the longest HOSTNAME, APP-NAME, PROCID, MSGID, SD-NAME. */
const MAX_HOSTNAME = 255
const MAX_APP_NAME = 48
const MAX_PROCID = 128
const MAX_MSGID = 32
const MAX_SD_NAME = 32
const MS_PER_DAY = 86_400_000
/** How far ahead of `now` a year-less RFC 3164 date may be before it is read as last year's. */
const FUTURE_SLACK_MS = 31 * MS_PER_DAY

const malformed = (reason: MalformedReason, detail: string): MalformedSyslog => ({ ok: false, reason, detail })

const bad5424 = (detail: string): MalformedSyslog => malformed("bad-rfc5424", detail)

const isDigit = (code: number): boolean => code >= 0x30 && code <= 0x39

const isPrintUsAscii = (code: number): boolean => code >= 33 && code <= 126

/** Characters that never appear in text: C0 controls except TAB, LF, CR; and DEL. */
const CONTROL_CHAR = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/

function countControlBytes(bytes: Buffer): number {
  let count = 0
  for (const byte of bytes) {
    if ((byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) || byte === 0x7f) count++
  }
  return count
}

/** Reading options: `now` (ms since the epoch, default the clock) places year-less RFC 3164 dates. */
export interface SyslogReadOptions {
  readonly now?: number
}

export function parseSyslog(frame: Buffer, options: SyslogReadOptions = {}): ParsedSyslog | MalformedSyslog {
  const head = readHead(frame)
  if (!head.ok) return head
  const body = fortiosBody(head)
  if (typeof body === "object" && body !== null) return body
  const read = body === null ? null : parseKeyValuesBestEffort(body)
  if (body !== null && read !== null) return fortios(head, body, read.fields, read.damage)
  const header = readHeader(head, true, options.now ?? Date.now())
  if (!header.ok) return header
  const { bytes, text } = head
  let messageBytes: Buffer | null = null
  let message: string
  if (head.utf8) {
    message = text.slice(header.msgStart)
  } else {
    messageBytes = bytes.subarray(header.msgStart)
    message = messageBytes.toString("utf8")
  }
  const fields = startsWithFortiOsKey(message, 0) ? parseKeyValuesBestEffort(message) : null
  return {
    ok: true,
    format: header.format,
    facility: head.facility,
    severity: head.severity,
    timestamp: header.timestamp,
    time: header.time,
    hostname: header.hostname,
    appName: header.appName,
    procId: header.procId,
    msgId: header.msgId,
    structuredData: header.structuredData,
    message,
    messageBytes,
    bom: header.bom,
    fields: fields?.fields ?? null,
    damage: fields?.damage ?? null
  }
}

/**
 * The fast path of the analyzer's intake: what `parseSyslog` says of `frame` (the same
 * rejections, format, facility and severity) plus the header's hostname, app name, msgid and
 * time, with only the FortiOS fields of `picker` read (`KeyPicker.pickBestEffort` of the message:
 * undefined values for the keys it lacks, `null` when `parseSyslog` would give `fields: null`)
 * and the same `damage`.
 * In FortiOS' default format the header columns are null: its devname, date, time and tz are
 * fields (pick them). The other fields are checked against the key=value grammar, as
 * `parseSyslog` does, but never copied out.
 */
export function summarizeSyslog<K extends string>(frame: Buffer, picker: KeyPicker<K>, options: SyslogReadOptions = {}): SyslogSummary | MalformedSyslog {
  const head = readHead(frame)
  if (!head.ok) return head
  const { facility, severity, text } = head
  const body = fortiosBody(head)
  if (typeof body === "object" && body !== null) return body
  const picked = body === null ? null : picker.pickBestEffort(body)
  if (picked !== null) {
    return { ok: true, format: "fortios", facility, severity, hostname: null, appName: null, msgId: null, timeMs: null, utf8: true, fields: picked.values, damage: picked.damage }
  }
  const header = readHeader(head, false, options.now ?? Date.now())
  if (!header.ok) return header
  // A MSG that is not UTF-8 is read for fields as parseSyslog reads it: decoded, U+FFFD for what is not.
  const message = head.utf8 ? text.slice(header.msgStart) : head.bytes.subarray(header.msgStart).toString("utf8")
  const read = startsWithFortiOsKey(message, 0) ? picker.pickBestEffort(message) : null
  return {
    ok: true,
    format: header.format,
    facility,
    severity,
    hostname: header.hostname,
    appName: header.appName,
    msgId: header.msgId,
    timeMs: header.time?.ms ?? null,
    utf8: head.utf8,
    fields: read?.values ?? null,
    damage: read?.damage ?? null
  }
}

/** What `summarizeSyslog` reads of a message. */
export interface SyslogSummary {
  readonly ok: true
  readonly format: SyslogMessageFormat
  readonly facility: number
  readonly severity: number
  /** RFC 5424 or 3164 header HOSTNAME; null in FortiOS' default format, which has no header. */
  readonly hostname: string | null
  readonly appName: string | null
  readonly msgId: string | null
  /** The header timestamp's instant, ms since the epoch (see `SyslogTime.ms`). */
  readonly timeMs: number | null
  /** False when the message's bytes are not all UTF-8 (its MSG is kept as bytes). */
  readonly utf8: boolean
  /** The picked FortiOS fields, in the picker's order (see `KeyPicker.pickBestEffort`). */
  readonly fields: ReadonlyArray<string | undefined> | null
  /** As `ParsedSyslog.damage`. */
  readonly damage: KvDamageReport | null
}

interface Head {
  readonly ok: true
  /** The message's bytes, without the trailing NUL, CR and LF bytes. */
  readonly bytes: Buffer
  /** `bytes` as text: UTF-8 when they are, else Latin-1 (one character per byte, to find the MSG in `bytes`). */
  readonly text: string
  readonly utf8: boolean
  /** Where the text after `<PRI>` starts. */
  readonly pos: number
  readonly facility: number
  readonly severity: number
}

/** The checks every message goes through, and its `<PRI>`. */
function readHead(frame: Buffer): Head | MalformedSyslog {
  let length = frame.length
  if (frame[length - 1] === 0x00) length--
  while (length > 0 && (frame[length - 1] === 0x0a || frame[length - 1] === 0x0d)) length--
  if (length === 0) return malformed("empty", "the message is empty")
  const bytes = length === frame.length ? frame : frame.subarray(0, length)
  // Count control bytes only when the text has one at all: one regex search per message, not a
  // JS loop per byte on the hot path.
  const utf8 = isUtf8(bytes)
  const text = bytes.toString(utf8 ? "utf8" : "latin1")
  if (CONTROL_CHAR.test(text)) {
    const controls = countControlBytes(bytes)
    if (controls * 8 > length) {
      return malformed("binary-garbage", `${controls} of the message's ${length} bytes are control characters: this is binary data, not syslog text`)
    }
  }

  if (text.charCodeAt(0) !== LT) return malformed("bad-pri", "the message does not start with a <PRI> such as <189>")
  let pos = 1
  let pri = 0
  while (pos < text.length && pos <= 4 && isDigit(text.charCodeAt(pos))) {
    pri = pri * 10 + (text.charCodeAt(pos) - 0x30)
    pos++
  }
  if (pos === 1 || pos > 4 || text.charCodeAt(pos) !== GT) {
    return malformed("bad-pri", `the message starts with "${printable(text.slice(0, 6))}", not a <PRI> of 1 to 3 digits`)
  }
  if (pri > MAX_PRI) return malformed("bad-pri", `the PRI ${pri} is out of range: it must be 0 to ${MAX_PRI}`)
  return { ok: true, bytes, text, utf8, pos: pos + 1, facility: pri >> 3, severity: pri & 7 }
}

/** A header read from a message: everything but the MSG, which starts at `msgStart`. */
interface Header extends SyslogHeaderFields {
  readonly ok: true
  readonly format: "rfc5424" | "rfc3164"
  /** Where the MSG starts in the text, after any BOM. */
  readonly msgStart: number
}

/**
 * The body of a message in FortiOS' default format as far as its start tells (`[a-z_]+=` right
 * after the PRI), for the caller to check that it is key=value (else it is RFC 3164); null for
 * another format. Such a body that is not UTF-8 is refused: FortiOS writes UTF-8, so it is damage.
 */
function fortiosBody(head: Head): string | null | MalformedSyslog {
  if (!startsWithFortiOsKey(head.text, head.pos)) return null
  return head.utf8 ? head.text.slice(head.pos) : malformed("invalid-utf8", "the FortiOS key=value message is not valid UTF-8")
}

/** The RFC 5424 or RFC 3164 header; `collect`: build the SD elements (parseSyslog) or only check them. */
function readHeader(head: Head, collect: boolean, now: number): Header | MalformedSyslog {
  const { text, pos } = head
  const versionEnd = rfc5424VersionEnd(text, pos)
  let header: Header | MalformedSyslog
  if (versionEnd > 0) {
    header = parseRfc5424(text, versionEnd + 1, collect)
    if (header.ok && !head.utf8 && text.startsWith("\u00ef\u00bb\u00bf", header.msgStart)) {
      return malformed("invalid-utf8", "the RFC 5424 MSG starts with a BOM, so it must be UTF-8, and it is not")
    }
  } else {
    header = parseRfc3164(text, pos, now)
  }
  if (header.ok && !head.utf8 && !isAscii(text, header.msgStart)) {
    return malformed("invalid-utf8", "the message's header is not valid UTF-8 (only its MSG may be other bytes)")
  }
  return header
}

const isAscii = (text: string, end: number): boolean => {
  for (let i = 0; i < end; i++) if (text.charCodeAt(i) > 0x7f) return false
  return true
}

/** Control characters shown as `\xNN` in a detail sentence. */
const printable = (text: string): string => text.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`)

/**
 * The end of `VERSION` (1-999) at `pos` when an RFC 5424 header follows (`VERSION SP` then `- `
 * or four digits and `-`, the start of the NILVALUE or of a FULL-DATE), else -1.
 */
function rfc5424VersionEnd(text: string, pos: number): number {
  const first = text.charCodeAt(pos)
  if (first < 0x31 || first > 0x39) return -1
  let end = pos + 1
  while (end - pos < 3 && isDigit(text.charCodeAt(end))) end++
  if (text.charCodeAt(end) !== SP) return -1
  const next = end + 1
  if (text.charCodeAt(next) === DASH) return text.charCodeAt(next + 1) === SP || next + 1 === text.length ? end : -1
  for (let i = 0; i < 4; i++) if (!isDigit(text.charCodeAt(next + i))) return -1
  return text.charCodeAt(next + 4) === DASH ? end : -1
}

/** `[a-z_]+=` at `pos`: how a FortiOS key=value body starts. */
function startsWithFortiOsKey(text: string, pos: number): boolean {
  let i = pos
  while (i < text.length) {
    const code = text.charCodeAt(i)
    if ((code >= 0x61 && code <= 0x7a) || code === 0x5f) {
      i++
      continue
    }
    return code === EQUALS && i > pos
  }
  return false
}

/** FortiOS' default format: the header fields are the body's `date`, `time`, `tz` and `devname`. */
function fortios(head: Head, body: string, fields: Record<string, string>, damage: KvDamageReport | null): ParsedSyslog {
  const timestamp = fortiosTimestamp(fields["date"], fields["time"], fields["tz"])
  return {
    ok: true,
    format: "fortios",
    facility: head.facility,
    severity: head.severity,
    timestamp,
    time: timestamp === null ? null : fortiosTime(timestamp),
    hostname: fields["devname"] ?? null,
    appName: null,
    procId: null,
    msgId: null,
    structuredData: null,
    message: body,
    messageBytes: null,
    bom: false,
    fields,
    damage
  }
}

/** FortiOS `date=2026-11-27 time=05:54:07 tz="-0800"` as one timestamp, `2026-11-27T05:54:07-08:00`; null without date or time. */
function fortiosTimestamp(date: string | undefined, time: string | undefined, tz: string | undefined): string | null {
  if (date === undefined || time === undefined) return null
  const timestamp = `${date}T${time}`
  return tz !== undefined && tz.length === 5 && (tz[0] === "+" || tz[0] === "-") ? `${timestamp}${tz.slice(0, 3)}:${tz.slice(3)}` : timestamp
}

/** The instant of a `fortiosTimestamp` (without offset: UTC); null when it is no date. */
function fortiosTime(timestamp: string): SyslogTime | null {
  const read = readRfc3339(timestamp, 0, true)
  return read !== null && typeof read !== "string" && read.end === timestamp.length ? read.time : null
}

/**
 * `fortiosTime(fortiosTimestamp(date, time, tz))?.ms` without building either (the intake's
 * hot path): FortiOS `date=YYYY-MM-DD time=hh:mm:ss tz=±hhmm` as ms since the epoch, or null.
 */
export function fortiosTimeMs(date: string | undefined, time: string | undefined, tz: string | undefined): number | null {
  if (date === undefined || time === undefined || date.length !== 10 || time.length !== 8) return null
  const year = digits(date, 0, 4)
  const month = digits(date, 5, 2)
  const day = digits(date, 8, 2)
  const hour = digits(time, 0, 2)
  const minute = digits(time, 3, 2)
  const second = digits(time, 6, 2)
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || date.charCodeAt(4) !== DASH || date.charCodeAt(7) !== DASH) return null
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 || time.charCodeAt(2) !== COLON || time.charCodeAt(5) !== COLON) return null
  let offset = 0
  if (tz !== undefined && tz.length === 5 && (tz[0] === "+" || tz[0] === "-")) {
    const offsetHours = digits(tz, 1, 2)
    const offsetMinutes = digits(tz, 3, 2)
    if (offsetHours < 0 || offsetHours > 23 || offsetMinutes < 0 || offsetMinutes > 59) return null
    offset = (tz[0] === "-" ? -1 : 1) * (offsetHours * 60 + offsetMinutes)
  }
  return instantMs(year, month, day, hour, minute, second, offset)
}

// ---------------------------------------------------------------------------------------------
// Times
// ---------------------------------------------------------------------------------------------

/** A time as a UTC instant to the microsecond: `2003-08-24T12:14:15.000003Z`. */
export function formatInstant(time: SyslogTime): string {
  return `${new Date(time.ms).toISOString().slice(0, -1)}${String(time.us).padStart(3, "0")}Z`
}

/** An offset in minutes as `+hh:mm` / `-hh:mm`; null stays null. */
export function formatOffset(offset: number | null): string | null {
  if (offset === null) return null
  const minutes = Math.abs(offset)
  return `${offset < 0 ? "-" : "+"}${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`
}

/** Days from 1970-01-01 to a proleptic Gregorian date (month 1-12), any year. */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yoe = y - era * 400
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146_097 + doe - 719_468
}

const daysInMonth = (year: number, month: number): number =>
  month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31

/** `count` digits at `pos` as a number, or -1. */
function digits(text: string, pos: number, count: number): number {
  let value = 0
  for (let i = 0; i < count; i++) {
    const code = text.charCodeAt(pos + i)
    if (!isDigit(code)) return -1
    value = value * 10 + code - 0x30
  }
  return value
}

/** Ms since the epoch of a checked date and time of day, written at `offset` minutes east of UTC. */
const instantMs = (year: number, month: number, day: number, hour: number, minute: number, second: number, offset: number): number =>
  daysFromCivil(year, month, day) * MS_PER_DAY + ((hour * 60 + minute - offset) * 60 + second) * 1000

/** The instant of a checked date and time of day (UTC when `offset` is null). */
function instant(year: number, month: number, day: number, hour: number, minute: number, second: number, micros: number, offset: number | null): SyslogTime {
  return { ms: instantMs(year, month, day, hour, minute, second, offset ?? 0) + Math.floor(micros / 1000), us: micros % 1000, offset }
}

/**
 * An RFC 3339 timestamp as RFC 5424 restricts it, at `pos`: `YYYY-MM-DDThh:mm:ss[.1-6 digits]`
 * then `Z` or `±hh:mm` (no offset allowed only when `offsetOptional`), with its end; or the rule
 * it breaks (a sentence), or null when it does not even start like one.
 */
function readRfc3339(text: string, pos: number, offsetOptional: boolean): { time: SyslogTime; end: number } | string | null {
  const year = digits(text, pos, 4)
  if (year < 0 || text.charCodeAt(pos + 4) !== DASH) return null
  const month = digits(text, pos + 5, 2)
  const day = digits(text, pos + 8, 2)
  if (month < 0 || text.charCodeAt(pos + 7) !== DASH || day < 0) return "its date is not YYYY-MM-DD"
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return `${text.slice(pos, pos + 10)} is no date`
  const t = text.charCodeAt(pos + 10)
  if (t !== 0x54) return t === 0x74 ? "date and time must be separated by an upper-case T" : "the date is not followed by T and a time"
  const hour = digits(text, pos + 11, 2)
  const minute = digits(text, pos + 14, 2)
  const second = digits(text, pos + 17, 2)
  if (hour < 0 || minute < 0 || second < 0 || text.charCodeAt(pos + 13) !== COLON || text.charCodeAt(pos + 16) !== COLON) return "its time is not hh:mm:ss"
  if (hour > 23 || minute > 59 || second > 59) return `${text.slice(pos + 11, pos + 19)} is no time of day (hours 00-23, minutes and seconds 00-59)`
  let end = pos + 19
  let micros = 0
  if (text.charCodeAt(end) === 0x2e) {
    const start = end + 1
    end = start
    while (isDigit(text.charCodeAt(end))) end++
    const count = end - start
    if (count === 0) return "a fraction of a second needs at least one digit after the ."
    if (count > 6) return `its fraction of a second has ${count} digits; at most 6 are allowed`
    micros = digits(text, start, count) * 10 ** (6 - count)
  }
  const sign = text.charCodeAt(end)
  if (sign === 0x5a) return { time: instant(year, month, day, hour, minute, second, micros, 0), end: end + 1 }
  if (sign === 0x2b || sign === DASH) {
    const offsetHours = digits(text, end + 1, 2)
    const offsetMinutes = digits(text, end + 4, 2)
    if (offsetHours < 0 || offsetMinutes < 0 || text.charCodeAt(end + 3) !== COLON) return "its offset is not Z or ±hh:mm"
    if (offsetHours > 23 || offsetMinutes > 59) return `its offset ${text.slice(end, end + 6)} is out of range`
    const offset = (sign === DASH ? -1 : 1) * (offsetHours * 60 + offsetMinutes)
    return { time: instant(year, month, day, hour, minute, second, micros, offset), end: end + 6 }
  }
  if (sign === 0x7a) return "the UTC offset must be an upper-case Z"
  if (offsetOptional) return { time: instant(year, month, day, hour, minute, second, micros, null), end }
  return "it has no offset (Z or ±hh:mm)"
}

// ---------------------------------------------------------------------------------------------
// RFC 5424
// ---------------------------------------------------------------------------------------------

/** One header field (PRINTUSASCII, 1 to `max` characters, `-` for none) at `pos`: its end, or what is wrong. */
function headerFieldEnd(text: string, pos: number, name: string, max: number): number | string {
  let end = pos
  while (end < text.length) {
    const code = text.charCodeAt(end)
    if (code === SP) break
    if (!isPrintUsAscii(code)) return `its ${name} holds ${describeChar(code)}; header fields are printable US-ASCII`
    end++
  }
  if (end === pos) return `its ${name} is empty (two spaces in a row, or the header ends early)`
  if (end - pos > max) return `its ${name} is ${end - pos} characters long; at most ${max} are allowed`
  if (end === text.length) return `the header ends after its ${name}`
  return end
}

const describeChar = (code: number): string =>
  code === 0x0a ? "a newline" : code === 0x0d ? "a carriage return" : code < 0x20 || code === 0x7f ? `the control character 0x${code.toString(16).padStart(2, "0")}` : `the non-ASCII character ${String.fromCharCode(code)}`

/** The RFC 5424 header from after `VERSION SP`, strictly by the ABNF. */
function parseRfc5424(text: string, start: number, collect: boolean): Header | MalformedSyslog {
  let pos = start
  let timestamp: string | null = null
  let time: SyslogTime | null = null
  if (text.charCodeAt(pos) === DASH && text.charCodeAt(pos + 1) === SP) {
    pos += 2
  } else {
    const read = readRfc3339(text, pos, false)
    if (read === null || typeof read === "string") return bad5424(`the RFC 5424 TIMESTAMP is not a timestamp: ${read ?? "it does not start with YYYY-"}`)
    if (text.charCodeAt(read.end) !== SP) return bad5424(`the RFC 5424 TIMESTAMP ${JSON.stringify(text.slice(pos, read.end + 1))} is not followed by a space`)
    timestamp = text.slice(pos, read.end)
    time = read.time
    pos = read.end + 1
  }
  const values: Array<string | null> = []
  for (const [name, max] of RFC5424_FIELDS) {
    const end = headerFieldEnd(text, pos, name, max)
    if (typeof end === "string") return bad5424(`the RFC 5424 header is wrong: ${end}`)
    values.push(end === pos + 1 && text.charCodeAt(pos) === DASH ? null : text.slice(pos, end))
    pos = end + 1
  }
  let structuredData: SdElement[] | null = null
  if (text.charCodeAt(pos) === DASH) {
    pos++
  } else {
    const elements: SdElement[] | null = collect ? [] : null
    const end = readStructuredData(text, pos, elements)
    if (typeof end === "string") return bad5424(`the RFC 5424 STRUCTURED-DATA is wrong: ${end}`)
    structuredData = elements
    pos = end
  }
  let bom = false
  if (pos < text.length) {
    if (text.charCodeAt(pos) !== SP) return bad5424(`the RFC 5424 STRUCTURED-DATA is followed by ${JSON.stringify(printable(text.slice(pos, pos + 1)))}, not by a space and the MSG`)
    pos++
    if (text.charCodeAt(pos) === BOM) {
      bom = true
      pos++
    }
  }
  const [hostname = null, appName = null, procId = null, msgId = null] = values
  return { ok: true, format: "rfc5424", timestamp, time, hostname, appName, procId, msgId, structuredData, bom, msgStart: pos }
}

const RFC5424_FIELDS: ReadonlyArray<readonly [string, number]> = [
  ["HOSTNAME", MAX_HOSTNAME],
  ["APP-NAME", MAX_APP_NAME],
  ["PROCID", MAX_PROCID],
  ["MSGID", MAX_MSGID]
]

/** SD-NAME: PRINTUSASCII except `=`, SP, `]` and `"`. */
const isSdNameChar = (code: number): boolean => isPrintUsAscii(code) && code !== EQUALS && code !== RBRACKET && code !== QUOTE

/** The end of an SD-NAME (SD-ID or PARAM-NAME) at `pos`, or what is wrong with it. */
function sdNameEnd(text: string, pos: number, what: string): number | string {
  let end = pos
  while (end < text.length && isSdNameChar(text.charCodeAt(end))) end++
  if (end === pos) {
    return pos >= text.length ? `it ends where an ${what} should be` : `an ${what} is expected where ${JSON.stringify(printable(text.charAt(pos)))} is`
  }
  if (end - pos > MAX_SD_NAME) return `the ${what} ${text.slice(pos, end)} is ${end - pos} characters long; at most ${MAX_SD_NAME} are allowed`
  return end
}

/**
 * One or more `[SD-ID *(SP PARAM-NAME="PARAM-VALUE")]` at `start`: their end, or what is wrong.
 * Into `out` (when given) go the elements, values unescaped: `\"`, `\\` and `\]` are escapes,
 * any other backslash is kept; a `]` must be escaped in a value.
 */
function readStructuredData(text: string, start: number, out: SdElement[] | null): number | string {
  let pos = start
  if (text.charCodeAt(pos) !== LBRACKET) return `it is neither - nor [SD-ID ...]`
  while (text.charCodeAt(pos) === LBRACKET) {
    const idEnd = sdNameEnd(text, pos + 1, "SD-ID")
    if (typeof idEnd === "string") return idEnd
    const params: SdParam[] | null = out === null ? null : []
    const id = out === null ? "" : text.slice(pos + 1, idEnd)
    pos = idEnd
    while (text.charCodeAt(pos) === SP) {
      const nameEnd = sdNameEnd(text, pos + 1, "PARAM-NAME")
      if (typeof nameEnd === "string") return nameEnd
      if (text.charCodeAt(nameEnd) !== EQUALS || text.charCodeAt(nameEnd + 1) !== QUOTE) {
        return `the PARAM-NAME ${text.slice(pos + 1, nameEnd)} is not followed by ="`
      }
      let value = ""
      let chunk = nameEnd + 2
      let i = chunk
      while (true) {
        if (i >= text.length) return `the value of ${text.slice(pos + 1, nameEnd)} has no closing "`
        const code = text.charCodeAt(i)
        if (code === QUOTE) break
        if (code === RBRACKET) return `the value of ${text.slice(pos + 1, nameEnd)} holds a ] that is not escaped as \\]`
        if (code === BACKSLASH) {
          const next = text.charCodeAt(i + 1)
          if (next === QUOTE || next === BACKSLASH || next === RBRACKET) {
            if (params !== null) value += text.slice(chunk, i)
            chunk = i + 1
            i += 2
            continue
          }
        }
        i++
      }
      params?.push({ name: text.slice(pos + 1, nameEnd), value: value + text.slice(chunk, i) })
      pos = i + 1
    }
    if (text.charCodeAt(pos) !== RBRACKET) {
      return pos >= text.length ? "an SD-ELEMENT has no closing ]" : `an SD-ELEMENT holds ${JSON.stringify(printable(text.charAt(pos)))} where a space and a PARAM-NAME or its closing ] should be`
    }
    pos++
    if (out !== null && params !== null) out.push({ id, params })
  }
  return pos
}

// ---------------------------------------------------------------------------------------------
// RFC 3164
// ---------------------------------------------------------------------------------------------

/** Three lower-case letters as one number (ASCII letters lowered with 0x20). */
const letters3 = (a: number, b: number, c: number): number => ((a | 0x20) << 16) | ((b | 0x20) << 8) | (c | 0x20)

/** Month numbers 1-12 by the `letters3` of their English abbreviation. */
const MONTHS = new Map(
  ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"].map((name, i) => [letters3(name.charCodeAt(0), name.charCodeAt(1), name.charCodeAt(2)), i + 1])
)

/** The month (1-12) named at `pos` in any case (`Nov`, `NOV`, `nov`), or 0. */
function monthAt(text: string, pos: number): number {
  if (pos + 3 > text.length) return 0
  return MONTHS.get(letters3(text.charCodeAt(pos), text.charCodeAt(pos + 1), text.charCodeAt(pos + 2))) ?? 0
}

/**
 * An RFC 3164 timestamp at `start`: `Mmm dd hh:mm:ss` (day also `d` or ` d`, month in any case)
 * optionally followed by ` yyyy`, or an RFC 3339 timestamp; its end (at a space or the end of
 * the text) and instant, or null.
 */
function readRfc3164Timestamp(text: string, start: number, now: number): { time: SyslogTime; end: number } | null {
  const iso = readRfc3339(text, start, true)
  if (iso !== null) return typeof iso === "string" || (iso.end !== text.length && text.charCodeAt(iso.end) !== SP) ? null : iso
  const month = monthAt(text, start)
  if (month === 0 || text.charCodeAt(start + 3) !== SP) return null
  let pos = start + 4
  if (text.charCodeAt(pos) === SP) pos++
  const dayStart = pos
  while (pos - dayStart < 2 && isDigit(text.charCodeAt(pos))) pos++
  if (pos === dayStart || text.charCodeAt(pos) !== SP) return null
  const day = digits(text, dayStart, pos - dayStart)
  pos++
  const hour = digits(text, pos, 2)
  const minute = digits(text, pos + 3, 2)
  const second = digits(text, pos + 6, 2)
  if (hour < 0 || minute < 0 || second < 0 || text.charCodeAt(pos + 2) !== COLON || text.charCodeAt(pos + 5) !== COLON) return null
  if (hour > 23 || minute > 59 || second > 60 || day < 1 || day > 31) return null
  pos += 8
  if (pos !== text.length && text.charCodeAt(pos) !== SP) return null
  // A year after the time (`Apr 15 21:28:13 2007`), as some senders write.
  const year = digits(text, pos + 1, 4)
  if (year >= 0 && (pos + 5 === text.length || text.charCodeAt(pos + 5) === SP)) {
    if (day > daysInMonth(year, month)) return null
    return { time: instant(year, month, day, hour, minute, Math.min(second, 59), 0, null), end: pos + 5 }
  }
  // No year: the latest year in which that date exists and is no more than 31 days after `now`
  // (Feb 29 goes back to the last leap year).
  const thisYear = new Date(now).getUTCFullYear()
  for (let year = thisYear + 1; year > thisYear - 9; year--) {
    if (day > daysInMonth(year, month)) continue
    const time = instant(year, month, day, hour, minute, Math.min(second, 59), 0, null)
    if (time.ms <= now + FUTURE_SLACK_MS) return { time, end: pos }
  }
  return null
}

const isTagChar = (code: number): boolean =>
  (code >= 0x61 && code <= 0x7a) ||
  (code >= 0x41 && code <= 0x5a) ||
  isDigit(code) ||
  code === 0x5f || // _
  code === 0x2d || // -
  code === 0x2e || // .
  code === 0x2f // /

function parseRfc3164(text: string, start: number, now: number): Header {
  let timestamp: string | null = null
  let time: SyslogTime | null = null
  let hostname: string | null = null
  let appName: string | null = null
  let procId: string | null = null
  let pos = start
  const read = readRfc3164Timestamp(text, pos, now)
  if (read !== null) {
    timestamp = text.slice(pos, read.end)
    time = read.time
    pos = Math.min(read.end + 1, text.length)
    // HOSTNAME: the next word, unless it is already the TAG (`su:`, `cron[42]:`); an IPv6 address
    // (`2001:db8::`) is a hostname even when it ends with a colon.
    const hostEnd = text.indexOf(" ", pos)
    if (hostEnd > pos) {
      const word = text.slice(pos, hostEnd)
      if ((!word.endsWith(":") && !word.includes("[")) || isIPv6(word)) {
        hostname = word
        pos = hostEnd + 1
      }
    }
  }
  // TAG, optionally [PID], then `:`.
  let i = pos
  while (i < text.length && i - pos < MAX_TAG && isTagChar(text.charCodeAt(i))) i++
  if (i > pos) {
    let pidEnd = -1
    let colon = i
    if (text.charCodeAt(i) === LBRACKET) {
      pidEnd = text.indexOf("]", i + 1)
      colon = pidEnd + 1
    }
    if ((pidEnd < 0 || pidEnd > i + 1) && colon > 0 && text.charCodeAt(colon) === COLON) {
      appName = text.slice(pos, i)
      if (pidEnd > 0) procId = text.slice(i + 1, pidEnd)
      pos = text.charCodeAt(colon + 1) === SP ? colon + 2 : colon + 1
    }
  }
  return { ok: true, format: "rfc3164", timestamp, time, hostname, appName, procId, msgId: null, structuredData: null, bom: false, msgStart: pos }
}
