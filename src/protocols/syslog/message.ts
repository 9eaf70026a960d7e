/**
 * Parsing one syslog message (one frame or one UDP datagram), its format detected per message.
 * docs/protocols/syslog.md lists every rule below with an example.
 *
 * After the `<PRI>`:
 * - `VERSION SP` (1-999) then `- ` or `YYYY-` starts an RFC 5424 header, read strictly by the
 *   RFC's ABNF (`rfc5424.ts`): a message that claims RFC 5424 and breaks its grammar is
 *   malformed (`bad-rfc5424`, the detail naming the rule), never stored as if parsed;
 * - `name=` (`[a-z_]+=`) is FortiOS' default format, the key=value body right after the PRI
 *   (read here);
 * - anything else is RFC 3164, read as the mainstream daemons (rsyslog, syslog-ng) read it
 *   (`rfc3164.ts`).
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
 * Times (`time.ts`): a timestamp without offset (RFC 3164 `Mmm dd hh:mm:ss`) is read as UTC, and
 * without a year as the latest such date no more than 31 days after `now`. `parseSyslog` reads everything;
 * `summarizeSyslog`, the analyzer intake's fast path, gives the same verdict but reads only the
 * header columns and the FortiOS fields it is asked for. Neither throws.
 */
import { isUtf8 } from "node:buffer"
import { type KeyPicker, type KvDamageReport, parseKeyValuesBestEffort } from "../fortios/kv.ts"
import { COLON, DASH, EQUALS, type Header, isDigit, malformed, type MalformedSyslog, printable, type SyslogHeaderFields, type SyslogTime } from "./header.ts"
import { parseRfc3164 } from "./rfc3164.ts"
import { parseRfc5424, rfc5424VersionEnd } from "./rfc5424.ts"
import { daysInMonth, digits, instantMs, readRfc3339 } from "./time.ts"

export type SyslogMessageFormat = "rfc5424" | "rfc3164" | "fortios"

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

const LT = 0x3c
const GT = 0x3e
const MAX_PRI = 191

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
