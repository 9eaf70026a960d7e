/**
 * Parsing one syslog message (one frame or one UDP datagram), its format detected per message.
 *
 * After the `<PRI>`:
 * - `1 ` starts an RFC 5424 header (VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD [MSG]);
 * - `name=` (`[a-z_]+=`) is FortiOS' default format, the key=value body right after the PRI;
 * - anything else is RFC 3164, parsed leniently as rsyslog does: `Mmm dd hh:mm:ss HOST TAG[PID]: MSG`
 *   when the timestamp is there, otherwise the whole rest is the message.
 * An RFC 5424 header that does not parse, or a FortiOS-looking body that is not key=value after
 * all, falls back to the lenient RFC 3164 reading rather than being rejected. When the MSG of an
 * RFC 5424 or 3164 message is itself FortiOS key=value (FortiOS `set format rfc5424`), `fields`
 * is filled too.
 *
 * Rejected ("malformed"): an empty message, binary data (more than one byte in eight a control
 * character other than TAB, LF and CR), invalid UTF-8, a missing or out-of-range PRI (0-191;
 * 1-3 digits). One trailing NUL and trailing CR and LF bytes are ignored.
 *
 * `parseSyslog` reads everything; `summarizeSyslog`, the analyzer intake's fast path, gives the
 * same verdict but reads only the header and the FortiOS fields it is asked for. Neither throws.
 */
import { isUtf8 } from "node:buffer"
import type { MalformedReason } from "../../events/events.ts"
import { type KeyPicker, parseKeyValues } from "../fortios/kv.ts"

export type SyslogMessageFormat = "rfc5424" | "rfc3164" | "fortios"

export interface ParsedSyslog {
  readonly ok: true
  readonly format: SyslogMessageFormat
  readonly facility: number
  readonly severity: number
  /** As written: RFC 5424 `TIMESTAMP`, RFC 3164 `Mmm dd hh:mm:ss`, FortiOS `date`T`time` plus `tz`. */
  readonly timestamp: string | null
  /** RFC header HOSTNAME, or FortiOS `devname`. */
  readonly hostname: string | null
  readonly appName: string | null
  readonly procId: string | null
  readonly msgId: string | null
  /** RFC 5424 STRUCTURED-DATA as written (escapes kept), `null` for the NILVALUE. */
  readonly structuredData: string | null
  readonly message: string
  /** The FortiOS key=value fields when the message body is key=value. */
  readonly fields: Record<string, string> | null
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
const BOM = 0xfeff
const MAX_PRI = 191
const MAX_TAG = 48

const malformed = (reason: MalformedReason, detail: string): MalformedSyslog => ({ ok: false, reason, detail })

const isDigit = (code: number): boolean => code >= 0x30 && code <= 0x39

/** Characters that never appear in text: C0 controls except TAB, LF, CR; and DEL. */
const CONTROL_CHAR = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/

function countControlBytes(bytes: Buffer): number {
  let count = 0
  for (const byte of bytes) {
    if ((byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) || byte === 0x7f) count++
  }
  return count
}

export function parseSyslog(frame: Buffer): ParsedSyslog | MalformedSyslog {
  const head = readHead(frame)
  if (!head.ok) return head
  const { text, pos, facility, severity } = head
  if (text.charCodeAt(pos) === 0x31 && text.charCodeAt(pos + 1) === SP) {
    const parsed = parseRfc5424(text, pos + 2, facility, severity, fieldsOf)
    if (parsed !== null) return parsed
  } else if (startsWithFortiOsKey(text, pos)) {
    const body = text.slice(pos)
    const fields = parseKeyValues(body)
    if (fields !== null) return fortios(facility, severity, body, fields)
  }
  return parseRfc3164(text, pos, facility, severity, fieldsOf)
}

/**
 * The fast path of the analyzer's intake: what `parseSyslog` says of `frame` (the same
 * rejections, format, facility and severity) plus the header's hostname, with only the FortiOS
 * fields of `picker` read (`KeyPicker.pick` of the message: undefined values for the keys it
 * lacks, `null` when `parseSyslog` would give `fields: null`). The other fields are checked
 * against the key=value grammar, as `parseSyslog` does, but never copied out.
 */
export function summarizeSyslog<K extends string>(frame: Buffer, picker: KeyPicker<K>): SyslogSummary | MalformedSyslog {
  const head = readHead(frame)
  if (!head.ok) return head
  const { text, pos, facility, severity } = head
  let parsed: ParsedSyslog | null = null
  if (text.charCodeAt(pos) === 0x31 && text.charCodeAt(pos + 1) === SP) {
    parsed = parseRfc5424(text, pos + 2, facility, severity, noFields)
  } else if (startsWithFortiOsKey(text, pos)) {
    const fields = picker.pick(text.slice(pos))
    if (fields !== null) return { ok: true, format: "fortios", facility, severity, hostname: null, fields }
  }
  parsed ??= parseRfc3164(text, pos, facility, severity, noFields)
  const fields = startsWithFortiOsKey(parsed.message, 0) ? picker.pick(parsed.message) : null
  return { ok: true, format: parsed.format, facility, severity, hostname: parsed.hostname, fields }
}

/** What `summarizeSyslog` reads of a message. */
export interface SyslogSummary {
  readonly ok: true
  readonly format: SyslogMessageFormat
  readonly facility: number
  readonly severity: number
  /** RFC 5424 or 3164 header HOSTNAME; null in FortiOS' default format, which has no header. */
  readonly hostname: string | null
  /** The picked FortiOS fields, in the picker's order (see `KeyPicker.pick`). */
  readonly fields: ReadonlyArray<string | undefined> | null
}

interface Head {
  readonly ok: true
  /** The message as text, without the trailing NUL, CR and LF bytes. */
  readonly text: string
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
  const text = utf8 ? bytes.toString("utf8") : ""
  if (!utf8 || CONTROL_CHAR.test(text)) {
    const controls = countControlBytes(bytes)
    if (controls * 8 > length) {
      return malformed("binary-garbage", `${controls} of the message's ${length} bytes are control characters: this is binary data, not syslog text`)
    }
  }
  if (!utf8) return malformed("invalid-utf8", "the message is not valid UTF-8")

  if (text.charCodeAt(0) !== LT) return malformed("bad-pri", "the message does not start with a <PRI> such as <189>")
  let pos = 1
  let pri = 0
  while (pos < text.length && pos <= 4 && isDigit(text.charCodeAt(pos))) {
    pri = pri * 10 + (text.charCodeAt(pos) - 0x30)
    pos++
  }
  if (pos === 1 || pos > 4 || text.charCodeAt(pos) !== GT) {
    return malformed("bad-pri", `the message starts with "${text.slice(0, 6)}", not a <PRI> of 1 to 3 digits`)
  }
  if (pri > MAX_PRI) return malformed("bad-pri", `the PRI ${pri} is out of range: it must be 0 to ${MAX_PRI}`)
  return { ok: true, text, pos: pos + 1, facility: pri >> 3, severity: pri & 7 }
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

/** How a header parser reads the FortiOS fields of its MSG. */
type ReadFields = (message: string) => Record<string, string> | null

const fieldsOf: ReadFields = (message) => (startsWithFortiOsKey(message, 0) ? parseKeyValues(message) : null)

const noFields: ReadFields = () => null

function fortios(facility: number, severity: number, body: string, fields: Record<string, string>): ParsedSyslog {
  const date = fields["date"]
  const time = fields["time"]
  const tz = fields["tz"]
  let timestamp: string | null = null
  if (date !== undefined && time !== undefined) {
    timestamp = `${date}T${time}`
    if (tz !== undefined && tz.length === 5 && (tz[0] === "+" || tz[0] === "-")) {
      timestamp += `${tz.slice(0, 3)}:${tz.slice(3)}`
    }
  }
  return {
    ok: true,
    format: "fortios",
    facility,
    severity,
    timestamp,
    hostname: fields["devname"] ?? null,
    appName: null,
    procId: null,
    msgId: null,
    structuredData: null,
    message: body,
    fields
  }
}

const nilable = (token: string): string | null => (token === "-" ? null : token)

/** The RFC 5424 header from after `VERSION SP`; `null` when it does not follow the grammar. */
function parseRfc5424(text: string, start: number, facility: number, severity: number, readFields: ReadFields): ParsedSyslog | null {
  const tokens: string[] = []
  let pos = start
  for (let i = 0; i < 5; i++) {
    const end = text.indexOf(" ", pos)
    if (end <= pos) return null
    tokens.push(text.slice(pos, end))
    pos = end + 1
  }
  const [timestamp = "-", hostname = "-", appName = "-", procId = "-", msgId = "-"] = tokens
  let structuredData: string | null = null
  if (text.charCodeAt(pos) === 0x2d) {
    pos++
  } else {
    const sdEnd = structuredDataEnd(text, pos)
    if (sdEnd < 0) return null
    structuredData = text.slice(pos, sdEnd)
    pos = sdEnd
  }
  let message = ""
  if (pos < text.length) {
    if (text.charCodeAt(pos) !== SP) return null
    pos++
    if (text.charCodeAt(pos) === BOM) pos++
    message = text.slice(pos)
  }
  return {
    ok: true,
    format: "rfc5424",
    facility,
    severity,
    timestamp: nilable(timestamp),
    hostname: nilable(hostname),
    appName: nilable(appName),
    procId: nilable(procId),
    msgId: nilable(msgId),
    structuredData,
    message,
    fields: readFields(message)
  }
}

/** End (exclusive) of one or more `[SD-ELEMENT]`s starting at `pos`, or -1. `\]` `\"` `\\` are escapes inside values. */
function structuredDataEnd(text: string, start: number): number {
  let pos = start
  if (text.charCodeAt(pos) !== LBRACKET) return -1
  while (text.charCodeAt(pos) === LBRACKET) {
    pos++
    let inValue = false
    while (true) {
      if (pos >= text.length) return -1
      const code = text.charCodeAt(pos)
      if (inValue) {
        if (code === BACKSLASH) pos++
        else if (code === QUOTE) inValue = false
      } else if (code === QUOTE) {
        inValue = true
      } else if (code === RBRACKET) {
        break
      }
      pos++
    }
    pos++
  }
  return pos
}

const MONTHS = new Set(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"])

/** End (exclusive) of an RFC 3164 `Mmm dd hh:mm:ss` at `pos` (day also `d` or ` d`), or -1. */
function rfc3164TimestampEnd(text: string, start: number): number {
  if (!MONTHS.has(text.slice(start, start + 3)) || text.charCodeAt(start + 3) !== SP) return -1
  let pos = start + 4
  if (text.charCodeAt(pos) === SP) pos++
  const dayStart = pos
  while (pos - dayStart < 2 && isDigit(text.charCodeAt(pos))) pos++
  if (pos === dayStart || text.charCodeAt(pos) !== SP) return -1
  pos++
  for (let i = 0; i < 8; i++) {
    const code = text.charCodeAt(pos + i)
    if (i === 2 || i === 5 ? code !== COLON : !isDigit(code)) return -1
  }
  pos += 8
  return pos === text.length || text.charCodeAt(pos) === SP ? pos : -1
}

const isTagChar = (code: number): boolean =>
  (code >= 0x61 && code <= 0x7a) ||
  (code >= 0x41 && code <= 0x5a) ||
  isDigit(code) ||
  code === 0x5f || // _
  code === 0x2d || // -
  code === 0x2e || // .
  code === 0x2f // /

function parseRfc3164(text: string, start: number, facility: number, severity: number, readFields: ReadFields): ParsedSyslog {
  let timestamp: string | null = null
  let hostname: string | null = null
  let appName: string | null = null
  let procId: string | null = null
  let pos = start
  const timestampEnd = rfc3164TimestampEnd(text, pos)
  if (timestampEnd >= 0) {
    timestamp = text.slice(pos, timestampEnd)
    pos = Math.min(timestampEnd + 1, text.length)
    // HOSTNAME: the next word, unless it is already the TAG (`su:`, `cron[42]:`).
    const hostEnd = text.indexOf(" ", pos)
    if (hostEnd > pos) {
      const word = text.slice(pos, hostEnd)
      if (!word.endsWith(":") && !word.includes("[")) {
        hostname = word
        pos = hostEnd + 1
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
  }
  const message = text.slice(pos)
  return {
    ok: true,
    format: "rfc3164",
    facility,
    severity,
    timestamp,
    hostname,
    appName,
    procId,
    msgId: null,
    structuredData: null,
    message,
    fields: readFields(message)
  }
}
