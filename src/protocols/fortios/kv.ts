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
 * `formatKeyValues` writes what FortiOS writes: numbers bare, string fields double-quoted, except
 * the fields FortiOS types as dates, times, epoch counters and IP addresses (`FORTIOS_BARE_KEYS`),
 * which stay bare unless the value needs quotes (empty, whitespace, `"`, `=` or `\`).
 */

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

/** Parses a whole FortiOS key=value body; `null` when the text is not key=value. */
export function parseKeyValues(text: string): Record<string, string> | null {
  // A prototype-less object: a `__proto__` key in a log line is just a key.
  const fields: Record<string, string> = Object.create(null)
  const length = text.length
  // Fast paths (native searches instead of a loop per character): FortiOS separates pairs with
  // single spaces, and few values hold a backslash.
  const spacesOnly = text.indexOf("\t") < 0 && text.indexOf("\n") < 0 && text.indexOf("\r") < 0
  let nextBackslash = text.indexOf("\\")
  let pairs = 0
  let pos = 0
  while (true) {
    while (pos < length && isSpace(text.charCodeAt(pos))) pos++
    if (pos === length) break
    const keyStart = pos
    while (pos < length && isKeyChar(text.charCodeAt(pos))) pos++
    if (pos === keyStart || text.charCodeAt(pos) !== EQUALS) return null
    const key = text.slice(keyStart, pos)
    pos++
    let value: string
    if (text.charCodeAt(pos) === QUOTE) {
      const close = text.indexOf("\"", pos + 1)
      if (close < 0) return null
      if (nextBackslash >= 0 && nextBackslash < pos) nextBackslash = text.indexOf("\\", pos)
      if (nextBackslash < 0 || nextBackslash > close) {
        value = text.slice(pos + 1, close)
        pos = close + 1
      } else {
        pos++
        let chunkStart = pos
        let unescaped = ""
        while (true) {
          if (pos === length) return null
          const code = text.charCodeAt(pos)
          if (code === QUOTE) break
          if (code === BACKSLASH && pos + 1 < length) {
            const next = text.charCodeAt(pos + 1)
            if (next === QUOTE || next === BACKSLASH) {
              unescaped += text.slice(chunkStart, pos)
              chunkStart = pos + 1
              pos += 2
              continue
            }
          }
          pos++
        }
        value = unescaped + text.slice(chunkStart, pos)
        pos++
      }
      if (pos < length && !isSpace(text.charCodeAt(pos))) return null
    } else {
      let end = pos
      if (spacesOnly) {
        end = text.indexOf(" ", pos)
        if (end < 0) end = length
      } else {
        while (end < length && !isSpace(text.charCodeAt(end))) end++
      }
      value = text.slice(pos, end)
      pos = end
    }
    fields[key] = value
    pairs++
  }
  return pairs > 0 ? fields : null
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
