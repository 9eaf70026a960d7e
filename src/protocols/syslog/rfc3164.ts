/**
 * The RFC 3164 header, read as the mainstream daemons (rsyslog, syslog-ng) read it:
 * `TIMESTAMP HOSTNAME TAG[PID]: MSG`, the timestamp `Mmm dd hh:mm:ss` (month in any case,
 * optionally a year after the time) or RFC 3339; the HOSTNAME a word that is not the TAG (an
 * IPv6 address too); without a timestamp, no HOSTNAME and the TAG (if any) first. A timestamp
 * without offset is read as UTC, and without a year as the latest such date no more than 31 days
 * after `now` (Feb 29: of a leap year). Anything after the PRI reads as RFC 3164: it never fails.
 */
import { isIPv6 } from "node:net"
import { COLON, type Header, isDigit, SP, type SyslogTime } from "./header.ts"
import { daysInMonth, digits, instant, MS_PER_DAY, readRfc3339 } from "./time.ts"

const LBRACKET = 0x5b
const MAX_TAG = 48
/** How far ahead of `now` a year-less RFC 3164 date may be before it is read as last year's. */
const FUTURE_SLACK_MS = 31 * MS_PER_DAY

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

export function parseRfc3164(text: string, start: number, now: number): Header {
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
