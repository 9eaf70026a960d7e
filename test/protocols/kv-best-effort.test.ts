/**
 * Best-effort key=value (src/protocols/fortios/kv.ts) on cut and damaged FortiOS lines, property
 * tested: real-format lines (the FortiOS 7.x generator's traffic, UTM and event logs, and lines
 * as FortiGates write them) cut at any point keep every pair before the cut, say `truncated` when
 * the cut lands inside a quoted value, and never throw; a stray token between pairs or glued to a
 * closing quote keeps every pair and says `damaged`; the picker agrees with the full read.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { formatKeyValues, KeyPicker, parseKeyValues, parseKeyValuesBestEffort } from "../../src/protocols/fortios/kv.ts"
import { LOG_KINDS, makeFortiOsLog } from "../../src/protocols/fortios/logs.ts"

/** Lines as FortiGates write them (FortiOS 7.2/7.4 default format, the shape public parsers test with). */
const REAL_LINES = [
  'date=2024-03-14 time=09:21:07 devname="FGT60F-Branch" devid="FGT60FTK2109XXXX" eventtime=1710404467412345678 tz="+0100" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=10.10.20.31 srcport=53614 srcintf="internal" srcintfrole="lan" dstip=142.250.185.78 dstport=443 dstintf="wan1" dstintfrole="wan" srccountry="Reserved" dstcountry="Germany" sessionid=9123871 proto=6 action="close" policyid=4 policytype="policy" poluuid="a9a3c2f0-1d2b-51ee-8f0d-5c6f3d2b1a00" policyname="LAN-to-WAN" service="HTTPS" trandisp="snat" transip=198.51.100.7 transport=53614 appcat="unscanned" duration=12 sentbyte=2934 rcvdbyte=6421 sentpkt=21 rcvdpkt=19',
  'date=2024-03-14 time=09:22:41 devname="FGT60F-Branch" devid="FGT60FTK2109XXXX" eventtime=1710404561000000000 tz="+0100" logid="0317013312" type="utm" subtype="webfilter" eventtype="ftgd_blk" level="warning" vd="root" policyid=4 sessionid=9124410 srcip=10.10.20.44 srcport=50344 srcintf="internal" dstip=203.0.113.80 dstport=443 dstintf="wan1" proto=6 service="HTTPS" hostname="ads.example.net" profile="default" action="blocked" reqtype="direct" url="https://ads.example.net/track?id=7&ref=\\"home\\"" sentbyte=517 rcvdbyte=0 direction="outgoing" msg="URL belongs to a denied category in policy" method="domain" cat=17 catdesc="Advertising"',
  'date=2024-03-14 time=09:30:00 devname="FGT60F-Branch" devid="FGT60FTK2109XXXX" eventtime=1710405000123456789 tz="+0100" logid="0100032002" type="event" subtype="system" level="alert" vd="root" logdesc="Admin login failed" sn="0" user="admin" ui="https(198.51.100.23)" method="https" srcip=198.51.100.23 dstip=192.0.2.1 action="login" status="failed" reason="passwd_invalid" msg="Administrator admin login failed from https(198.51.100.23) because of invalid password"',
  'date=2024-03-14 time=09:31:12 devname="FGT60F-Branch" devid="FGT60FTK2109XXXX" eventtime=1710405072000000000 logid="0101037141" type="event" subtype="vpn" level="notice" vd="root" logdesc="IPsec tunnel statistics" msg="IPsec tunnel statistics" action="tunnel-stats" remip=203.0.113.2 locip=192.0.2.1 remport=500 locport=500 outintf="wan1" cookies="3b1c2e/9a8f7d" user="N/A" group="N/A" xauthuser="N/A" xauthgroup="N/A" assignip=N/A vpntunnel="HQ" tunnelip=N/A tunnelid=1034 tunneltype="ipsec" duration=86400 sentbyte=119023 rcvdbyte=203311 nextstat=600'
]

/** One real-format line as its pairs, and where each pair ends in the formatted text. */
interface Line {
  readonly text: string
  readonly pairs: ReadonlyArray<readonly [key: string, value: string, end: number]>
}

const lineOf = (text: string): Line => {
  const fields = parseKeyValues(text)
  if (fields === null) throw new Error(`not key=value: ${text}`)
  // Pair ends: each pair is followed by one space (or ends the text); keys do not repeat.
  const pairs: Array<readonly [string, string, number]> = []
  let pos = 0
  for (const [key, value] of Object.entries(fields)) {
    const start = text.indexOf(`${key}=`, pos)
    const next = Object.keys(fields).indexOf(key) + 1 < Object.keys(fields).length ? text.indexOf(` ${Object.keys(fields)[Object.keys(fields).indexOf(key) + 1]}=`, start) : text.length
    pairs.push([key, value, next])
    pos = next
  }
  return { text, pairs }
}

const generated = fc.tuple(fc.constantFrom(...LOG_KINDS), fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 1, max: 2 ** 31 - 1 })).map(([kind, seq, seed]) => {
  let state = seed
  const random = () => {
    state = (Math.imul(state, 1103515245) + 12345) & 0x7fffffff
    return state / 0x80000000
  }
  const fields = makeFortiOsLog({ device: { name: "fgt-prop", serial: "FGT60FTK20009999", vdom: "root" }, kind, seq, epochNs: 1_793_700_000_000_000_000n + BigInt(seq), random })
  return lineOf(formatKeyValues(fields))
})

const lines = fc.oneof(generated, fc.constantFrom(...REAL_LINES.map(lineOf)))

/** Whether `cut` lands inside a quoted value of `line` (after its opening quote, before its closing one is whole). */
const insideQuotes = (line: Line, cut: number): boolean =>
  line.pairs.some(([key, , end], i) => {
    const start = i === 0 ? 0 : (line.pairs[i - 1]?.[2] ?? 0) + 1
    const open = start + key.length + 1
    return line.text[open] === '"' && cut > open && cut < end
  })

describe("best-effort key=value on cut lines", () => {
  it("keeps every pair before the cut, says truncated when cut inside a quoted value, never throws", () => {
    fc.assert(
      fc.property(lines.chain((line) => fc.tuple(fc.constant(line), fc.integer({ min: 1, max: line.text.length - 1 }))), ([line, cut]) => {
        const text = line.text.slice(0, cut)
        const read = parseKeyValuesBestEffort(text)
        const whole = line.pairs.filter(([, , end]) => end <= cut)
        if (whole.length >= 2) expect(read).not.toBeNull()
        if (read === null) return
        for (const [key, value] of whole) expect(read.fields[key]).toBe(value)
        if (insideQuotes(line, cut)) expect(read.damage?.reason).toBe("truncated")
      }),
      { numRuns: 3000 }
    )
  })

  it("the picker picks what the full read keeps, with the same damage", () => {
    const picker = new KeyPicker(["devname", "devid", "logid", "type", "subtype", "level", "eventtime", "fazlab_seq", "msg"])
    fc.assert(
      fc.property(lines.chain((line) => fc.tuple(fc.constant(line), fc.integer({ min: 1, max: line.text.length }))), ([line, cut]) => {
        const text = line.text.slice(0, cut)
        const read = parseKeyValuesBestEffort(text)
        const picked = picker.pickBestEffort(text)
        expect(picked).toEqual(read === null ? null : { values: picker.keys.map((key) => read.fields[key]), damage: read.damage })
      }),
      { numRuns: 2000 }
    )
  })
})

describe("best-effort key=value on damaged lines", () => {
  const stray = fc.string({ unit: fc.constantFrom("|", "#", "\u00a0", "}", "'", ";", "\\", "\u00e9"), minLength: 1, maxLength: 3 })

  it("a stray token between two pairs, or glued to a closing quote, keeps every pair and says damaged", () => {
    fc.assert(
      fc.property(lines.chain((line) => fc.tuple(fc.constant(line), fc.integer({ min: 0, max: line.pairs.length - 1 }), stray, fc.boolean())), ([line, at, junk, glued]) => {
        const end = line.pairs[at]?.[2] ?? line.text.length
        const quoted = line.text[end - 1] === '"'
        // Glued only after a closing quote: glued to a bare value it would just be part of the value.
        const text = glued && quoted ? `${line.text.slice(0, end)}${junk}${line.text.slice(end)}` : `${line.text.slice(0, end)} ${junk}${line.text.slice(end)}`
        const read = parseKeyValuesBestEffort(text)
        expect(read).not.toBeNull()
        for (const [key, value] of line.pairs) expect(read?.fields[key]).toBe(value)
        expect(read?.damage?.reason).toBe("damaged")
        expect(parseKeyValues(text)).toBeNull()
      }),
      { numRuns: 2000 }
    )
  })

  it("arbitrary text never throws, and whole key=value reads as the strict parser does", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom("a", "=", '"', " ", "\\", "|", "k", "1", "\t"), maxLength: 40 }), (text) => {
        const read = parseKeyValuesBestEffort(text)
        const strict = parseKeyValues(text)
        if (strict !== null) expect(read).toEqual({ fields: strict, damage: null })
      }),
      { numRuns: 3000 }
    )
  })

  it("names what it skipped in one phrase", () => {
    expect(parseKeyValuesBestEffort('devname="fgt-1" logid="0000000013" msg="cut in the mid')?.damage).toEqual({ reason: "truncated", detail: "the text ends inside the quoted value of msg" })
    expect(parseKeyValuesBestEffort('devname="fgt-1" logid="0000000013" |')?.damage).toEqual({ reason: "damaged", detail: 'stray text "|" at character 36' })
    expect(parseKeyValuesBestEffort('devname="fgt-1"| logid="0000000013"')?.damage).toEqual({ reason: "damaged", detail: 'stray text "|" after the value of devname at character 16' })
    expect(parseKeyValuesBestEffort("status=broken today")).toBeNull()
  })
})
