/**
 * Syslog times: RFC 3339 timestamps as RFC 5424 restricts them (also read in RFC 3164 and
 * FortiOS headers), dates as instants on the proleptic Gregorian calendar without `Date`
 * parsing (any year, leap seconds as :59), and an instant written back to the microsecond.
 */
import { COLON, DASH, isDigit, type SyslogTime } from "./header.ts"

export const MS_PER_DAY = 86_400_000

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

export const daysInMonth = (year: number, month: number): number =>
  month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31

/** `count` digits at `pos` as a number, or -1. */
export function digits(text: string, pos: number, count: number): number {
  let value = 0
  for (let i = 0; i < count; i++) {
    const code = text.charCodeAt(pos + i)
    if (!isDigit(code)) return -1
    value = value * 10 + code - 0x30
  }
  return value
}

/** Ms since the epoch of a checked date and time of day, written at `offset` minutes east of UTC. */
export const instantMs = (year: number, month: number, day: number, hour: number, minute: number, second: number, offset: number): number =>
  daysFromCivil(year, month, day) * MS_PER_DAY + ((hour * 60 + minute - offset) * 60 + second) * 1000

/** The instant of a checked date and time of day (UTC when `offset` is null). */
export function instant(year: number, month: number, day: number, hour: number, minute: number, second: number, micros: number, offset: number | null): SyslogTime {
  return { ms: instantMs(year, month, day, hour, minute, second, offset ?? 0) + Math.floor(micros / 1000), us: micros % 1000, offset }
}

/**
 * An RFC 3339 timestamp as RFC 5424 restricts it, at `pos`: `YYYY-MM-DDThh:mm:ss[.1-6 digits]`
 * then `Z` or `±hh:mm` (no offset allowed only when `offsetOptional`), with its end; or the rule
 * it breaks (a sentence), or null when it does not even start like one.
 */
export function readRfc3339(text: string, pos: number, offsetOptional: boolean): { time: SyslogTime; end: number } | string | null {
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
