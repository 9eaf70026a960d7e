/**
 * The logs panel's filter, as typed after `/`: `device:fgt-1 level:warning deny` keeps the logs
 * of fgt-1 at level warning whose text contains "deny". `device:`, `type:`, `level:` and the
 * syslog header's `host:`, `app:` and `msgid:` take one word each, `since:` and `until:` one
 * ISO 8601 time (`since:2026-12-05T06:00:00Z`, the log's own time); the last one given wins.
 * Every other word (a `since:` that is no time too) is text to find, in order, with single
 * spaces. The filter travels as the `logs` command's fields.
 */
import type { LogsCommand } from "../control/protocol.ts"

export type LogFilter = Pick<LogsCommand, "device" | "type" | "level" | "hostname" | "appName" | "msgId" | "since" | "until" | "text">

/** The words that take one word each, and the filter field each sets. */
const WORDS = { device: "device", type: "type", level: "level", host: "hostname", app: "appName", msgid: "msgId" } as const
/** The words that take a time. */
const TIMES = { since: "since", until: "until" } as const

type Word = keyof typeof WORDS
type TimeWord = keyof typeof TIMES

const isWord = (key: string): key is Word => Object.hasOwn(WORDS, key)
const isTimeWord = (key: string): key is TimeWord => Object.hasOwn(TIMES, key)

/** What the user typed, as a filter; an empty line is no filter. */
export const parseLogFilter = (typed: string): LogFilter => {
  const filter: { -readonly [K in keyof LogFilter]: LogFilter[K] } = {}
  const words: string[] = []
  for (const word of typed.trim().split(/\s+/u).filter((w) => w !== "")) {
    const match = /^([a-z]+):(.+)$/u.exec(word)
    const key = match?.[1] ?? ""
    const value = match?.[2]
    if (value !== undefined && isWord(key)) {
      filter[WORDS[key]] = value
      continue
    }
    const time = value === undefined ? Number.NaN : Date.parse(value)
    if (isTimeWord(key) && !Number.isNaN(time)) filter[TIMES[key]] = time
    else words.push(word)
  }
  if (words.length > 0) filter.text = words.join(" ")
  return filter
}

/** The filter as the user would type it (the panel title shows it); "" for none. */
export const formatLogFilter = (filter: LogFilter): string =>
  [
    ...Object.entries(WORDS).flatMap(([word, key]) => (filter[key] === undefined ? [] : [`${word}:${filter[key]}`])),
    ...Object.entries(TIMES).flatMap(([word, key]) => {
      const time = filter[key]
      return time === undefined ? [] : [`${word}:${new Date(time).toISOString()}`]
    }),
    ...(filter.text === undefined ? [] : [filter.text])
  ].join(" ")
