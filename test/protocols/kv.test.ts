/** FortiOS key=value parsing and formatting: examples, a reference parser, and round trips. */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { FORTIOS_BARE_KEYS, formatKeyValues, KeyPicker, parseKeyValues } from "../../src/protocols/fortios/kv.ts"

/** The grammar of kv.ts written as one regex: slow and obviously faithful to the module notes. */
const PAIR = /[ \t\r\n]*([A-Za-z0-9_-]+)=(?:"((?:\\[\\"]|\\(?![\\"])|[^"\\])*)"(?=[ \t\r\n]|$)|([^ \t\r\n"][^ \t\r\n]*|))/y

function referenceParse(text: string): Record<string, string> | null {
  const fields: Record<string, string> = Object.create(null)
  let pairs = 0
  PAIR.lastIndex = 0
  while (!/^[ \t\r\n]*$/.test(text.slice(PAIR.lastIndex))) {
    const match = PAIR.exec(text)
    if (match === null) return null
    const [, key = "", quoted, bare] = match
    fields[key] = quoted !== undefined ? quoted.replace(/\\([\\"])/g, "$1") : (bare ?? "")
    pairs++
  }
  return pairs > 0 ? fields : null
}

const record = (entries: Record<string, string>): Record<string, string> => Object.assign(Object.create(null), entries)

describe("parseKeyValues", () => {
  it("parses a real FortiOS line (Fortinet's published IPS sample)", () => {
    const line =
      'date=2019-05-15 time=17:56:41 logid="0419016384" type="utm" subtype="ips" eventtype="signature" level="alert" vd="root" eventtime=1557968201 severity="critical" srcip=10.1.100.22 srccountry="Reserved" dstip=172.16.200.55 srcintf="port10" srcintfrole="lan" dstintf="port9" dstintfrole="wan" sessionid=4017 action="dropped" proto=6 service="HTTP" policyid=1 attack="Adobe.Flash.newfunction.Handling.Code.Execution" srcport=46810 dstport=80 hostname="172.16.200.55" url="/ips/sig1.pdf" direction="incoming" attackid=23305 profile="block-critical-ips" ref="http://www.fortinet.com/ids/VID23305" incidentserialno=582633933 msg="applications3: Adobe.Flash.newfunction.Handling.Code.Execution," crscore=50 craction=4096 crlevel="critical"'
    const fields = parseKeyValues(line)
    expect(fields).not.toBeNull()
    expect(Object.keys(fields ?? {})).toHaveLength(36)
    expect(fields).toMatchObject({
      date: "2019-05-15",
      logid: "0419016384",
      srcip: "10.1.100.22",
      sessionid: "4017",
      msg: "applications3: Adobe.Flash.newfunction.Handling.Code.Execution,",
      crlevel: "critical"
    })
  })

  it("handles escapes, empty values, `=` in values, odd spacing and dashes in keys", () => {
    expect(parseKeyValues('  a=1  msg="he said \\"hi\\"" path="C:\\Users\\x" bs="a\\\\b" e="" f= url=/q?a=b&c=d x-y_Z9=ok  ')).toEqual(
      record({ a: "1", msg: 'he said "hi"', path: "C:\\Users\\x", bs: "a\\b", e: "", f: "", url: "/q?a=b&c=d", "x-y_Z9": "ok" })
    )
  })

  it("treats __proto__ as an ordinary key", () => {
    const fields = parseKeyValues('__proto__="x" a=1')
    expect(fields?.["__proto__"]).toBe("x")
    expect(Object.getPrototypeOf(fields)).toBeNull()
  })

  it("keeps the last value of a repeated key", () => {
    expect(parseKeyValues("a=1 a=2")).toEqual(record({ a: "2" }))
  })

  it.each([
    ["empty text", ""],
    ["only spaces", "   "],
    ["plain text", "hello world"],
    ["a bare word after pairs", "a=1 oops"],
    ["an unterminated quote", 'a="open'],
    ["text glued to a closing quote", 'a="b"c'],
    ["a key with a dot", "a.b=1"],
    ["a missing key", "=1"]
  ])("returns null for %s", (_, text) => {
    expect(parseKeyValues(text)).toBeNull()
  })

  it("agrees with the reference grammar on arbitrary nasty strings", () => {
    const nasty = fc.string({ unit: fc.constantFrom("a", "_", "-", "=", '"', "\\", " ", "\t", "\n", "é", "1"), maxLength: 12 })
    // Mostly key=value-shaped input with nasty keys, values and separators, so that many samples
    // are valid or nearly so; plus free-form strings.
    const pair = fc.tuple(
      fc.oneof(fc.stringMatching(/^[a-z_-]{1,6}$/), nasty),
      fc.oneof(nasty, nasty.map((v) => `"${v}"`), nasty.map((v) => `"${v}`)),
      fc.constantFrom(" ", "  ", "\t", "", "\n")
    )
    const text = fc.oneof(
      fc.array(pair, { maxLength: 6 }).map((pairs) => pairs.map(([k, v, sep]) => `${k}=${v}${sep}`).join("")),
      fc.string({ unit: fc.constantFrom("a", "k=", "=", '"', "\\", '\\"', " ", "\t", "é"), maxLength: 40 })
    )
    fc.assert(
      fc.property(text, (input) => {
        expect(parseKeyValues(input)).toEqual(referenceParse(input))
      }),
      { numRuns: 1000 }
    )
  })

  it("never throws on arbitrary strings", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 300 }), (text) => {
        const fields = parseKeyValues(text)
        expect(fields === null || typeof fields === "object").toBe(true)
      }),
      { numRuns: 500 }
    )
  })
})

describe("KeyPicker", () => {
  const picker = new KeyPicker(["devname", "type", "msg", "absent", "a-b"])

  it("returns the picked values in its key order, undefined for missing keys", () => {
    expect(picker.pick('date=2026-11-27 type="traffic" msg="he said \\"hi\\"" devname=fgt-1 a-b= level=x')).toEqual([
      "fgt-1",
      "traffic",
      'he said "hi"',
      undefined,
      ""
    ])
  })

  it("keeps the last value of a repeated key and tells keys that share a length apart", () => {
    expect(new KeyPicker(["ab", "ba"]).pick("ba=1 ab=2 ab=3 cd=4")).toEqual(["3", "1"])
  })

  it("checks the keys it does not pick against the grammar too", () => {
    expect(picker.pick('devname=fgt-1 other="open')).toBeNull()
    expect(picker.pick("devname=fgt-1 oops")).toBeNull()
  })

  it("agrees with parseKeyValues on arbitrary strings", () => {
    // Many keys picked, or one: unpicked values are skipped, never read, and must be checked all the same.
    const pickers = [new KeyPicker(["a", "k", "_", "-", "a-", "kk", "é"]), new KeyPicker(["kk"])]
    const unit = fc.constantFrom("a", "k", "_", "-", "=", "k=", "a=", '"', "\\", '\\"', " ", "\t", "\n", "é")
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 40 }), (text) => {
        const fields = parseKeyValues(text)
        for (const picker of pickers) expect(picker.pick(text)).toEqual(fields === null ? null : picker.keys.map((key) => fields[key]))
      }),
      { numRuns: 3000 }
    )
  })
})

describe("formatKeyValues", () => {
  it("quotes strings, leaves numbers and FortiOS' bare fields unquoted", () => {
    expect(
      formatKeyValues([
        ["date", "2026-11-27"],
        ["devname", "fgt-1"],
        ["eventtime", "1795845247123456789"],
        ["logid", "0000000013"],
        ["srcip", "10.0.0.1"],
        ["srcport", 51234],
        ["msg", 'he said "hi"'],
        ["path", "C:\\x"],
        ["empty", ""],
        ["assignip", "N/A"],
        ["dstip", ""]
      ])
    ).toBe(
      'date=2026-11-27 devname="fgt-1" eventtime=1795845247123456789 logid="0000000013" srcip=10.0.0.1 srcport=51234 msg="he said \\"hi\\"" path="C:\\\\x" empty="" assignip=N/A dstip=""'
    )
  })

  it("round-trips through parseKeyValues", () => {
    const key = fc.oneof(fc.constantFrom(...FORTIOS_BARE_KEYS, "msg", "__proto__"), fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/))
    const value = fc.oneof(fc.string({ unit: "binary", maxLength: 40 }), fc.integer(), fc.constantFrom("", " ", '"', "\\", "a=b", "10.0.0.1"))
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(key, value), { selector: ([k]) => k, minLength: 1, maxLength: 20 }), (fields) => {
        const expected = record(Object.fromEntries(fields.map(([k, v]) => [k, String(v)])))
        expect(parseKeyValues(formatKeyValues(fields))).toEqual(expected)
      }),
      { numRuns: 500 }
    )
  })
})
