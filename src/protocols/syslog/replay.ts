/**
 * A real log file read for replay (`fazlab send syslog --file`): one log a line, in any of the
 * forms a capture holds: FortiOS key=value with or without a syslog header, RFC 3164, RFC 5424.
 * Each log becomes a message to send as it is (a line without `<PRI>` gets one: the FortiOS
 * `level`'s severity on facility local7, else user.notice) and the time it was logged: FortiOS
 * `eventtime` (s, ms, us or ns since the epoch, by its digits), else `date` and `time` (with
 * `tz`), else the header's timestamp; null when the line has none. Lines that are not logs
 * (blank lines excepted) are counted, with the first one's number, and never sent. Each log also
 * carries its FortiOS key=value text on its own (`record`), what OFTP carries, when it has one.
 *
 * `ReplayFeed` hands the logs out on a clock at their schedule (`replaySchedule`), for the senders
 * that replay a file on the lab clock (a FortiGate's syslog and OFTP destinations). Pure.
 */
import { SEVERITIES } from "./encode.ts"
import { parseSyslog } from "./message.ts"

export interface ReplayLog {
  /** The message to send (without framing). */
  readonly message: Buffer
  /** When it was logged, in ms since the epoch; null when the line does not say. */
  readonly at: number | null
  /** Its FortiOS key=value text without any syslog header (what an OFTP record holds); null when it is not FortiOS. */
  readonly record: string | null
  /** Its line in the file, from 1. */
  readonly line: number
}

export interface ReplayFile {
  readonly logs: ReadonlyArray<ReplayLog>
  /** Non-blank lines that are not logs. */
  readonly skipped: number
  /** The first of them, from 1; null when none. */
  readonly firstSkipped: number | null
}

const USER_NOTICE = 13
const LOCAL7 = 23

/** `eventtime` in ms: FortiOS writes seconds, milliseconds, microseconds or nanoseconds (7.x). */
const eventtimeMs = (text: string): number | null => {
  if (!/^\d{9,19}$/u.test(text)) return null
  const digits = text.length
  const value = Number(text)
  return digits <= 10 ? value * 1000 : digits <= 13 ? value : digits <= 16 ? value / 1000 : value / 1_000_000
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

const HALF_YEAR_MS = 183 * 86_400_000

/**
 * A header timestamp: RFC 5424 (ISO 8601), or RFC 3164 `Mmm dd hh:mm:ss` (UTC), which has no
 * year: the one that puts it nearest the log before it (`near`), else this year.
 */
const headerMs = (timestamp: string, near: number | null): number | null => {
  const match = /^([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2})$/u.exec(timestamp)
  if (match === null) {
    const iso = Date.parse(timestamp)
    return Number.isNaN(iso) ? null : iso
  }
  const month = MONTHS.indexOf(match[1] ?? "")
  if (month < 0) return null
  const year = new Date(near ?? Date.now()).getUTCFullYear()
  const at = Date.UTC(year, month, Number(match[2]), Number(match[3]), Number(match[4]), Number(match[5]))
  if (near === null) return at
  const shift = at - near > HALF_YEAR_MS ? -1 : near - at > HALF_YEAR_MS ? 1 : 0
  return Date.UTC(year + shift, month, Number(match[2]), Number(match[3]), Number(match[4]), Number(match[5]))
}

/** When a parsed log was logged (see the module notes). */
const loggedAt = (fields: Readonly<Record<string, string>> | null, timestamp: string | null, near: number | null): number | null => {
  const fromEventtime = fields?.["eventtime"] === undefined ? null : eventtimeMs(fields["eventtime"])
  if (fromEventtime !== null) return fromEventtime
  const date = fields?.["date"]
  const time = fields?.["time"]
  if (date !== undefined && time !== undefined) {
    const tz = fields?.["tz"]
    const offset = tz !== undefined && /^[+-]\d{4}$/u.test(tz) ? `${tz.slice(0, 3)}:${tz.slice(3)}` : "Z"
    const ms = Date.parse(`${date}T${time}${offset}`)
    if (!Number.isNaN(ms)) return ms
  }
  return timestamp === null ? null : headerMs(timestamp, near)
}

/** The PRI a line without one gets. */
const priOf = (fields: Readonly<Record<string, string>> | null): number => {
  const level = fields?.["level"]
  const severity = level === undefined ? undefined : SEVERITIES[level as keyof typeof SEVERITIES]
  return severity === undefined ? USER_NOTICE : LOCAL7 * 8 + severity
}

/** One line as a log, or null when it is not one. */
const logOf = (text: string, line: number, near: number | null): ReplayLog | null => {
  const withPri = text.startsWith("<") ? parseSyslog(Buffer.from(text, "utf8")) : null
  if (withPri !== null) {
    // A PRI followed by prose parses as RFC 3164 too; only what carries fields or a header is a log.
    if (!withPri.ok || (withPri.fields === null && withPri.timestamp === null)) return null
    return { message: Buffer.from(text, "utf8"), at: loggedAt(withPri.fields, withPri.timestamp, near), record: withPri.fields === null ? null : withPri.message, line }
  }
  // No PRI: read it as if it had user.notice's, then give it the one its level says.
  const parsed = parseSyslog(Buffer.from(`<${USER_NOTICE}>${text}`, "utf8"))
  if (!parsed.ok || (parsed.fields === null && parsed.timestamp === null)) return null
  return { message: Buffer.from(`<${priOf(parsed.fields)}>${text}`, "utf8"), at: loggedAt(parsed.fields, parsed.timestamp, near), record: parsed.fields === null ? null : parsed.message, line }
}

/** Reads a log file's text for replay. */
export const readReplayFile = (text: string): ReplayFile => {
  const logs: ReplayLog[] = []
  let skipped = 0
  let firstSkipped: number | null = null
  let near: number | null = null
  text.split(/\r?\n/u).forEach((raw, index) => {
    const line = raw.trim()
    if (line === "") return
    const log = logOf(line, index + 1, near)
    if (log !== null) {
      logs.push(log)
      near = log.at ?? near
    }
    else {
      skipped++
      firstSkipped ??= index + 1
    }
  })
  return { logs, skipped, firstSkipped }
}

/**
 * When each log is sent, in ms from the start: at the original pace `speed` times faster (a log
 * without a time goes with the one before it), or at `rate` logs per second.
 */
export const replaySchedule = (logs: ReadonlyArray<ReplayLog>, pace: { readonly speed: number } | { readonly rate: number }): ReadonlyArray<number> => {
  if ("rate" in pace) return logs.map((_, i) => (i * 1000) / pace.rate)
  const first = logs.find((log) => log.at !== null)?.at ?? null
  let last = 0
  return logs.map((log) => {
    // A clock that goes back (logs out of order, a day boundary of RFC 3164) never goes back in the replay.
    if (log.at !== null && first !== null) last = Math.max(last, (log.at - first) / pace.speed)
    return last
  })
}

/**
 * A replayed file's logs handed out on a clock (any: the caller gives `now`, in ms) at their
 * `replaySchedule`. `restart` anchors the schedule so that the next log is due at once: at the
 * start, and again after a pause or a lost link, the replay goes on from where it stopped at its
 * pace instead of catching up in one flood. `burst(n)` lets the next `n` go at once.
 */
export class ReplayFeed {
  readonly logs: ReadonlyArray<ReplayLog>
  readonly #schedule: ReadonlyArray<number>
  /** Clock time of schedule offset 0. */
  #origin = 0
  #next = 0
  #credit = 0

  constructor(logs: ReadonlyArray<ReplayLog>, pace: { readonly speed: number } | { readonly rate: number }) {
    this.logs = logs
    this.#schedule = replaySchedule(logs, pace)
  }

  /** Logs handed out so far. */
  get taken(): number {
    return this.#next
  }

  get done(): boolean {
    return this.#next >= this.logs.length
  }

  restart(now: number): void {
    this.#origin = now - (this.#schedule[this.#next] ?? 0)
  }

  burst(count: number): void {
    this.#credit += count
  }

  /** The next log when it is due by `now` (or a burst lets it go), else null. */
  next(now: number): ReplayLog | null {
    const log = this.logs[this.#next]
    if (log === undefined) return null
    if (this.#credit > 0) {
      this.#credit--
      this.#next++
      // What a burst sent early does not make the rest late: the pace goes on from this log.
      this.#origin = now - (this.#schedule[this.#next - 1] ?? 0)
      return log
    }
    if (this.#origin + (this.#schedule[this.#next] ?? 0) > now) return null
    this.#next++
    return log
  }

  /** Milliseconds until the next log is due (0: now); null when every log was handed out. */
  waitMs(now: number): number | null {
    if (this.done) return null
    if (this.#credit > 0) return 0
    return Math.max(0, this.#origin + (this.#schedule[this.#next] ?? 0) - now)
  }
}
