/**
 * The logs panel's filter, as typed after `/`: `device:fgt-1 level:warning deny` keeps the logs
 * of fgt-1 at level warning whose text contains "deny". `device:`, `type:` and `level:` take
 * one word each (the last one given wins); every other word is text to find, in order, with
 * single spaces. The filter travels as the `logs` command's fields.
 */
import type { LogsCommand } from "../control/protocol.ts"

export type LogFilter = Pick<LogsCommand, "device" | "type" | "level" | "text">

const KEYS = ["device", "type", "level"] as const

/** What the user typed, as a filter; an empty line is no filter. */
export const parseLogFilter = (typed: string): LogFilter => {
  const filter: { device?: string; type?: string; level?: string; text?: string } = {}
  const words: string[] = []
  for (const word of typed.trim().split(/\s+/u).filter((w) => w !== "")) {
    const match = /^(device|type|level):(.+)$/u.exec(word)
    const key = match?.[1] as (typeof KEYS)[number] | undefined
    if (key !== undefined && match?.[2] !== undefined) filter[key] = match[2]
    else words.push(word)
  }
  if (words.length > 0) filter.text = words.join(" ")
  return filter
}

/** The filter as the user would type it (the panel title shows it); "" for none. */
export const formatLogFilter = (filter: LogFilter): string =>
  [...KEYS.flatMap((key) => (filter[key] === undefined ? [] : [`${key}:${filter[key]}`])), ...(filter.text === undefined ? [] : [filter.text])].join(" ")
