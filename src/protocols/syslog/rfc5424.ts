/**
 * The RFC 5424 header (VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA
 * [SP MSG]), read strictly by the RFC's ABNF: PRINTUSASCII header fields within their lengths
 * (HOSTNAME 255, APP-NAME 48, PROCID 128, MSGID 32), a full-date `T` full-time timestamp with a
 * fraction of 1-6 digits and `Z` or `±hh:mm`, SD-IDs and PARAM-NAMEs of 1-32 SD-NAME
 * characters, `"`, `\` and `]` escaped in PARAM-VALUEs. A message that claims RFC 5424 and
 * breaks its grammar is malformed (`bad-rfc5424`, the detail naming the rule).
 */
import { DASH, EQUALS, type Header, isDigit, isPrintUsAscii, malformed, type MalformedSyslog, printable, type SdElement, type SdParam, SP, type SyslogTime } from "./header.ts"
import { readRfc3339 } from "./time.ts"

const LBRACKET = 0x5b
const RBRACKET = 0x5d
const QUOTE = 0x22
const BACKSLASH = 0x5c
const BOM = 0xfeff
/** RFC 5424 section 6: the longest HOSTNAME, APP-NAME, PROCID, MSGID, SD-NAME. */
const MAX_HOSTNAME = 255
const MAX_APP_NAME = 48
const MAX_PROCID = 128
const MAX_MSGID = 32
const MAX_SD_NAME = 32

const bad5424 = (detail: string): MalformedSyslog => malformed("bad-rfc5424", detail)

/**
 * The end of `VERSION` (1-999) at `pos` when an RFC 5424 header follows (`VERSION SP` then `- `
 * or four digits and `-`, the start of the NILVALUE or of a FULL-DATE), else -1.
 */
export function rfc5424VersionEnd(text: string, pos: number): number {
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
export function parseRfc5424(text: string, start: number, collect: boolean): Header | MalformedSyslog {
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
