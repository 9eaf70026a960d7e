/**
 * FortiOS `key=value` log bodies: parse them into a record and write them back.
 *
 * The grammar accepted by `parseKeyValues`: pairs separated by whitespace, keys made of
 * `[A-Za-z0-9_-]`, values either bare (anything up to the next whitespace, `=` and `"` included)
 * or double-quoted with `\"` and `\\` escapes (any other backslash is kept literally, as in the
 * Windows paths FortiOS logs). `key=` and `key=""` are empty values. A text that is not entirely
 * such pairs (a bare word, an unterminated quote, text glued to a closing quote) is not key=value
 * and yields `null`. When a key repeats, the last value wins.
 *
 * Best effort (`parseKeyValuesBestEffort`, `KeyPicker.pickBestEffort`), for what the analyzer
 * receives: a line cut in the middle (util-linux `logger` cuts at 1 KiB by default, UDP paths
 * truncate) or with stray characters keeps every well-formed pair and says what was wrong
 * (`KvDamage`): `truncated` when the text ends inside a pair (an unterminated quote, a key
 * without `=`), `damaged` when text that is not a pair was skipped (up to the next whitespace;
 * text glued to a closing quote is skipped and the pair kept). A text with no more pairs than
 * stray tokens is not key=value at all (`null`): "status=broken today" is prose. Never throws.
 *
 * `formatKeyValues` writes what FortiOS writes: numbers bare, string fields double-quoted, except
 * the fields FortiOS types as dates, times, epoch counters and IP addresses (`FORTIOS_BARE_KEYS`),
 * which stay bare unless the value needs quotes (empty, whitespace, `"`, `=` or `\`).
 */
import type { PartialLogReason } from "../../events/events.ts"

const SPACE = 0x20
const TAB = 0x09
const LF = 0x0a
const CR = 0x0d
const QUOTE = 0x22
const BACKSLASH = 0x5c
const EQUALS = 0x3d

const isSpace = (code: number): boolean => code === SPACE || code === TAB || code === LF || code === CR

const isKeyChar = (code: number): boolean =>
  (code >= 0x61 && code <= 0x7a) || // a-z
  (code >= 0x41 && code <= 0x5a) || // A-Z
  (code >= 0x30 && code <= 0x39) || // 0-9
  code === 0x5f || // _
  code === 0x2d // -

/** Why a best-effort read of key=value kept only part of a text. */
export type KvDamage = PartialLogReason

/** What a best-effort read skipped: the first problem found, and where. */
export interface KvDamageReport {
  readonly reason: KvDamage
  /** One phrase: "the text ends inside the quoted value of msg", "stray text \"|\" at character 812". */
  readonly detail: string
}

/** Where a scan reports what it skipped; strict scans pass none and fail instead. */
interface DamageSink {
  report: KvDamageReport | null
}

/** Parses a whole FortiOS key=value body; `null` when the text is not key=value. */
export function parseKeyValues(text: string): Record<string, string> | null {
  // A prototype-less object: a `__proto__` key in a log line is just a key.
  const fields: Record<string, string> = Object.create(null)
  return scanKeyValues(text, null, fields, NO_VALUES, null) ? fields : null
}

/**
 * Parses a FortiOS key=value body, cut or damaged ones too: every well-formed pair, and
 * `damage` (null when the text is entirely key=value). `null` when it holds no more
 * well-formed pairs than stray tokens.
 */
export function parseKeyValuesBestEffort(text: string): { readonly fields: Record<string, string>; readonly damage: KvDamageReport | null } | null {
  const fields: Record<string, string> = Object.create(null)
  const sink: DamageSink = { report: null }
  return scanKeyValues(text, null, fields, NO_VALUES, sink) ? { fields, damage: sink.report } : null
}

/**
 * Reads a few keys of FortiOS key=value bodies without building a record of all of them: the
 * analyzer's intake needs 8 of a log's 20-40 fields. `pick` checks the whole body against the
 * same grammar as `parseKeyValues` (so it returns `null` exactly when that does) and returns
 * the picked values in the order of `keys`, `undefined` for a key the body lacks.
 */
export class KeyPicker<K extends string> {
  /** Distinct keys. */
  readonly keys: ReadonlyArray<K>
  /** Candidates by key length: finding a key's slot compares text in place, no slice per key. */
  readonly #byLength: ReadonlyArray<ReadonlyArray<readonly [key: string, slot: number]> | undefined>

  constructor(keys: ReadonlyArray<K>) {
    this.keys = keys
    const byLength: Array<Array<readonly [string, number]> | undefined> = []
    keys.forEach((key, slot) => {
      ;(byLength[key.length] ??= []).push([key, slot])
    })
    this.#byLength = byLength
  }

  /** The values of `keys` in `text`, in the same order (the last one when a key repeats); `null` when the text is not key=value. */
  pick(text: string): Array<string | undefined> | null {
    const values = new Array<string | undefined>(this.keys.length).fill(undefined)
    return scanKeyValues(text, this, NO_FIELDS, values, null) ? values : null
  }

  /** `pick` of a cut or damaged text too (see `parseKeyValuesBestEffort`); `null` when that is. */
  pickBestEffort(text: string): { readonly values: Array<string | undefined>; readonly damage: KvDamageReport | null } | null {
    const values = new Array<string | undefined>(this.keys.length).fill(undefined)
    const sink: DamageSink = { report: null }
    return scanKeyValues(text, this, NO_FIELDS, values, sink) ? { values, damage: sink.report } : null
  }

  /** The slot of the key `text[start, end)`, or -1 when it is not picked. */
  slotOf(text: string, start: number, end: number): number {
    const candidates = this.#byLength[end - start]
    if (candidates === undefined) return -1
    for (const [key, slot] of candidates) if (text.startsWith(key, start)) return slot
    return -1
  }
}

const NO_FIELDS: Record<string, string> = Object.freeze(Object.create(null))
const NO_VALUES: Array<string | undefined> = []

/** The first whitespace at or after `pos`, or the end of `text`. */
const nextSpace = (text: string, pos: number): number => {
  let end = pos
  while (end < text.length && !isSpace(text.charCodeAt(end))) end++
  return end
}

/** Stray text as a report shows it: at most 20 characters, quoted. */
const shown = (text: string): string => JSON.stringify(text.length > 20 ? `${text.slice(0, 20)}...` : text)

/**
 * The one scanner behind `parseKeyValues` and `KeyPicker`: checks that `text` is key=value and
 * stores each pair's value in `fields` (by key, when `picker` is null) or in `values` (by the
 * picker's slot, picked keys only: other values are skipped, never sliced). False when `text`
 * is not key=value. With a `sink` (best effort) it skips what is not a pair instead, notes the
 * first problem in the sink, and is false only when no pair at all was read.
 */
function scanKeyValues(
  text: string,
  picker: KeyPicker<string> | null,
  fields: Record<string, string>,
  values: Array<string | undefined>,
  sink: DamageSink | null
): boolean {
  const length = text.length
  // Fast paths (native searches instead of a loop per character): FortiOS separates pairs with
  // single spaces, and few values hold a backslash.
  const spacesOnly = text.indexOf("\t") < 0 && text.indexOf("\n") < 0 && text.indexOf("\r") < 0
  let nextBackslash = text.indexOf("\\")
  let pairs = 0
  /** Stray tokens skipped (best effort). */
  let strays = 0
  let pos = 0
  const note = (damage: KvDamage, detail: string) => {
    if (damage === "damaged") strays++
    if (sink !== null) sink.report ??= { reason: damage, detail }
  }
  while (true) {
    while (pos < length && isSpace(text.charCodeAt(pos))) pos++
    if (pos === length) break
    const keyStart = pos
    while (pos < length && isKeyChar(text.charCodeAt(pos))) pos++
    if (pos === keyStart || text.charCodeAt(pos) !== EQUALS) {
      if (sink === null) return false
      const end = nextSpace(text, keyStart)
      // A last word without "=" is a key cut short, or a stray word: it counts as a stray either way.
      if (end === length && pos === length) {
        strays++
        note("truncated", `the text ends inside the key ${shown(text.slice(keyStart))}`)
      } else note("damaged", `stray text ${shown(text.slice(keyStart, end))} at character ${keyStart + 1}`)
      pos = end
      continue
    }
    const keyEnd = pos
    const slot = picker === null ? -1 : picker.slotOf(text, keyStart, keyEnd)
    const keep = picker === null || slot >= 0
    pos++
    let value = ""
    if (text.charCodeAt(pos) === QUOTE) {
      const close = text.indexOf("\"", pos + 1)
      if (close < 0) {
        if (sink === null) return false
        note("truncated", `the text ends inside the quoted value of ${text.slice(keyStart, keyEnd)}`)
        break
      }
      if (nextBackslash >= 0 && nextBackslash < pos) nextBackslash = text.indexOf("\\", pos)
      if (nextBackslash < 0 || nextBackslash > close) {
        if (keep) value = text.slice(pos + 1, close)
        pos = close + 1
      } else {
        pos++
        let chunkStart = pos
        let unescaped = ""
        while (true) {
          if (pos === length) {
            if (sink === null) return false
            note("truncated", `the text ends inside the quoted value of ${text.slice(keyStart, keyEnd)}`)
            return pairs > strays
          }
          const code = text.charCodeAt(pos)
          if (code === QUOTE) break
          if (code === BACKSLASH && pos + 1 < length) {
            const next = text.charCodeAt(pos + 1)
            if (next === QUOTE || next === BACKSLASH) {
              if (keep) unescaped += text.slice(chunkStart, pos)
              chunkStart = pos + 1
              pos += 2
              continue
            }
          }
          pos++
        }
        if (keep) value = unescaped + text.slice(chunkStart, pos)
        pos++
      }
      if (pos < length && !isSpace(text.charCodeAt(pos))) {
        if (sink === null) return false
        // The pair is whole; what is glued to its closing quote is skipped.
        const end = nextSpace(text, pos)
        note("damaged", `stray text ${shown(text.slice(pos, end))} after the value of ${text.slice(keyStart, keyEnd)} at character ${pos + 1}`)
        pos = end
      }
    } else {
      let end = pos
      if (spacesOnly) {
        end = text.indexOf(" ", pos)
        if (end < 0) end = length
      } else {
        while (end < length && !isSpace(text.charCodeAt(end))) end++
      }
      if (keep) value = text.slice(pos, end)
      pos = end
    }
    if (picker === null) fields[text.slice(keyStart, keyEnd)] = value
    else if (slot >= 0) values[slot] = value
    pairs++
  }
  return pairs > strays
}

/**
 * The fields FortiOS writes unquoted although they are not numbers: dates, times, the 64-bit
 * `eventtime` (too large for a JS number, so it travels as a string) and IP addresses.
 */
export const FORTIOS_BARE_KEYS: ReadonlySet<string> = new Set([
  "date",
  "time",
  "eventtime",
  "itime",
  "srcip",
  "dstip",
  "transip",
  "tranip",
  "remip",
  "locip",
  "tunnelip",
  "assignip"
])

const needsQuotes = (value: string): boolean => {
  if (value.length === 0) return true
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i)
    if (isSpace(code) || code === QUOTE || code === EQUALS || code === BACKSLASH) return true
  }
  return false
}

const quote = (value: string): string => `"${value.replaceAll("\\", "\\\\").replaceAll("\"", "\\\"")}"`

/** Writes fields in the given order as a FortiOS key=value body (see the module notes on quoting). */
export function formatKeyValues(fields: ReadonlyArray<readonly [string, string | number]>): string {
  let out = ""
  for (const [key, value] of fields) {
    if (out.length > 0) out += " "
    const text = typeof value === "number"
      ? String(value)
      : FORTIOS_BARE_KEYS.has(key) && !needsQuotes(value) ? value : quote(value)
    out += `${key}=${text}`
  }
  return out
}
