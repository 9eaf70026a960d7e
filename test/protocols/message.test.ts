/** One syslog message: RFC 5424 and 3164 examples, FortiOS lines, rejections, encode/parse round trips. */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { MalformedReason } from "../../src/events/events.ts"
import { formatKeyValues, KeyPicker } from "../../src/protocols/fortios/kv.ts"
import { encodeSyslog, FACILITIES, SEVERITIES, SEVERITY_NAMES } from "../../src/protocols/syslog/encode.ts"
import { fortiosTimeMs, parseSyslog, summarizeSyslog } from "../../src/protocols/syslog/message.ts"

const BOM = "\u{feff}"
/** When the year-less RFC 3164 examples are read: 2026-11-03. */
const NOW = Date.parse("2026-11-03T00:00:00Z")
const parse = (text: string) => parseSyslog(Buffer.from(text, "utf8"), { now: NOW })

describe("RFC 5424 (section 6.5 examples)", () => {
  it("example 1: no structured data, a BOM before MSG", () => {
    expect(parse(`<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - ${BOM}'su root' failed for lonvick on /dev/pts/8`)).toEqual({
      ok: true,
      format: "rfc5424",
      facility: 4,
      severity: 2,
      timestamp: "2003-10-11T22:14:15.003Z",
      hostname: "mymachine.example.com",
      appName: "su",
      procId: null,
      msgId: "ID47",
      structuredData: null,
      time: { ms: Date.parse("2003-10-11T22:14:15.003Z"), us: 0, offset: 0 },
      message: "'su root' failed for lonvick on /dev/pts/8",
      messageBytes: null,
      bom: true,
      fields: null,
      damage: null
    })
  })

  it("example 2: a PROCID and a MSG without BOM", () => {
    expect(parse("<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.")).toMatchObject({
      format: "rfc5424",
      facility: 20,
      severity: 5,
      timestamp: "2003-08-24T05:14:15.000003-07:00",
      time: { ms: Date.parse("2003-08-24T12:14:15.000Z"), us: 3, offset: -420 },
      bom: false,
      hostname: "192.0.2.1",
      appName: "myproc",
      procId: "8710",
      msgId: null,
      structuredData: null,
      message: "%% It's time to make the do-nuts."
    })
  })

  it("example 3: structured data and a MSG", () => {
    const sd = '[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"]'
    expect(parse(`<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 ${sd} ${BOM}An application event log entry...`)).toMatchObject({
      appName: "evntslog",
      msgId: "ID47",
      structuredData: [{ id: "exampleSDID@32473", params: [{ name: "iut", value: "3" }, { name: "eventSource", value: "Application" }, { name: "eventID", value: "1011" }] }],
      message: "An application event log entry...",
      bom: true
    })
  })

  it("example 4: two SD elements and no MSG", () => {
    const sd = '[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]'
    expect(parse(`<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 ${sd}`)).toMatchObject({
      format: "rfc5424",
      structuredData: [
        { id: "exampleSDID@32473", params: [{ name: "iut", value: "3" }, { name: "eventSource", value: "Application" }, { name: "eventID", value: "1011" }] },
        { id: "examplePriority@32473", params: [{ name: "class", value: "high" }] }
      ],
      message: ""
    })
  })

  it("undoes the escapes of SD values (backslash before \", backslash, ]) and keeps any other backslash", () => {
    const sd = '[x@1 a="b\\]c\\"d e\\\\f" path="C:\\temp\\n" empty=""][origin ip="192.0.2.1" ip="192.0.2.2"]'
    expect(parse(`<13>1 - host app - - ${sd} msg`)).toMatchObject({
      timestamp: null,
      time: null,
      structuredData: [
        { id: "x@1", params: [{ name: "a", value: 'b]c"d e\\f' }, { name: "path", value: "C:\\temp\\n" }, { name: "empty", value: "" }] },
        { id: "origin", params: [{ name: "ip", value: "192.0.2.1" }, { name: "ip", value: "192.0.2.2" }] }
      ],
      message: "msg"
    })
  })

  it("fills fields when MSG is FortiOS key=value (FortiOS `format rfc5424`)", () => {
    const parsed = parse('<165>1 2022-11-14T06:54:03Z use2-dmz-fw02 - - - - eventtime=1668408843 tz="-0500" logid="0100032001" type="event"')
    expect(parsed).toMatchObject({
      format: "rfc5424",
      hostname: "use2-dmz-fw02",
      appName: null,
      structuredData: null,
      message: 'eventtime=1668408843 tz="-0500" logid="0100032001" type="event"',
      fields: { eventtime: "1668408843", tz: "-0500", logid: "0100032001", type: "event" }
    })
  })

  it("reads `1 ` as a VERSION only before - or a date: otherwise it is RFC 3164 text", () => {
    expect(parse("<13>1 hello")).toMatchObject({ format: "rfc3164", timestamp: null, message: "1 hello" })
    expect(parse("<13>1 - host app - - [unterminated msg")).toMatchObject({ ok: false, reason: "bad-rfc5424" })
  })
})

describe("RFC 5424 grammar", () => {
  const header = (fields: { ts?: string; host?: string; app?: string; proc?: string; msgid?: string; sd?: string }) =>
    `<13>1 ${fields.ts ?? "2003-10-11T22:14:15.003Z"} ${fields.host ?? "host"} ${fields.app ?? "app"} ${fields.proc ?? "-"} ${fields.msgid ?? "-"} ${fields.sd ?? "-"} msg`

  it("takes any VERSION from 1 to 999", () => {
    for (const version of ["1", "2", "10", "999"]) {
      expect(parse(`<13>${version} 2003-10-11T22:14:15Z host app - - - msg`)).toMatchObject({ format: "rfc5424", hostname: "host", appName: "app", message: "msg" })
    }
    // A VERSION of 0 or of four digits is no VERSION: RFC 3164 text.
    expect(parse("<13>0 2003-10-11T22:14:15Z host app - - - msg")).toMatchObject({ format: "rfc3164" })
    expect(parse("<13>1000 2003-10-11T22:14:15Z host app - - - msg")).toMatchObject({ format: "rfc3164" })
  })

  it("takes every field at its longest, and NILVALUEs", () => {
    const host = "h".repeat(255)
    const app = "a".repeat(48)
    const proc = "p".repeat(128)
    const msgid = "m".repeat(32)
    const sd = `[${"i".repeat(32)} ${"n".repeat(32)}="v"]`
    expect(parse(header({ host, app, proc, msgid, sd, ts: "2003-10-11T22:14:15.123456+14:00" }))).toMatchObject({
      hostname: host,
      appName: app,
      procId: proc,
      msgId: msgid,
      structuredData: [{ id: "i".repeat(32), params: [{ name: "n".repeat(32), value: "v" }] }],
      time: { ms: Date.parse("2003-10-11T08:14:15.123Z"), us: 456, offset: 840 }
    })
    expect(parse("<13>1 - - - - - -")).toMatchObject({ format: "rfc5424", timestamp: null, hostname: null, appName: null, procId: null, msgId: null, structuredData: null, message: "" })
  })

  it("reads fractions of 1 to 6 digits as microseconds", () => {
    expect(parse(header({ ts: "2003-10-11T22:14:15.5Z" }))).toMatchObject({ time: { ms: Date.parse("2003-10-11T22:14:15.500Z"), us: 0 } })
    expect(parse(header({ ts: "2003-10-11T22:14:15.000001Z" }))).toMatchObject({ time: { ms: Date.parse("2003-10-11T22:14:15.000Z"), us: 1 } })
    expect(parse(header({ ts: "2003-10-11T22:14:15-00:30" }))).toMatchObject({ time: { ms: Date.parse("2003-10-11T22:44:15Z"), us: 0, offset: -30 } })
  })

  it.each<[string, string, RegExp]>([
    // The seven the issue measured being stored as parsed on main.
    ["a newline inside the header", "<34>1 2003-10-11T22:14:15.003Z mymachine\n.example.com su - ID47 - msg", /HOSTNAME holds a newline/],
    ["a lower-case t in the timestamp", header({ ts: "2003-10-11t22:14:15.003Z" }), /upper-case T/],
    ["a 49-character APP-NAME", header({ app: "a".repeat(49) }), /APP-NAME is 49 characters long; at most 48/],
    ["a 33-character SD-ID", header({ sd: `[${"i".repeat(33)} a="b"]` }), /SD-ID i+ is 33 characters long; at most 32/],
    ["a 10-digit fraction of a second", header({ ts: "2003-10-11T22:14:15.0123456789Z" }), /fraction of a second has 10 digits; at most 6/],
    ["a space after [", header({ sd: '[ x@1 a="b"]' }), /an SD-ID is expected where " " is/],
    ["an unescaped ] in a PARAM-VALUE", header({ sd: '[x@1 a="b]c"]' }), /value of a holds a \] that is not escaped/],
    // The other rules of the ABNF.
    ["a lower-case z", header({ ts: "2003-10-11T22:14:15z" }), /upper-case Z/],
    ["a timestamp without offset", header({ ts: "2003-10-11T22:14:15" }), /no offset/],
    ["a 7-digit fraction", header({ ts: "2003-10-11T22:14:15.1234567Z" }), /7 digits; at most 6/],
    ["a day that does not exist", header({ ts: "2003-02-29T22:14:15Z" }), /2003-02-29 is no date/],
    ["hour 24", header({ ts: "2003-10-11T24:00:00Z" }), /no time of day/],
    ["a leap second", header({ ts: "2003-10-11T23:59:60Z" }), /no time of day/],
    ["an offset of 24 hours", header({ ts: "2003-10-11T22:14:15+24:00" }), /offset \+24:00 is out of range/],
    ["a 256-character HOSTNAME", header({ host: "h".repeat(256) }), /HOSTNAME is 256 characters long; at most 255/],
    ["a 129-character PROCID", header({ proc: "p".repeat(129) }), /PROCID is 129 characters long; at most 128/],
    ["a 33-character MSGID", header({ msgid: "m".repeat(33) }), /MSGID is 33 characters long; at most 32/],
    ["a 33-character PARAM-NAME", header({ sd: `[x@1 ${"n".repeat(33)}="v"]` }), /PARAM-NAME n+ is 33 characters long/],
    ["a non-ASCII HOSTNAME", header({ host: "hôst" }), /non-ASCII character ô/],
    ["two spaces in the header", "<13>1 2003-10-11T22:14:15Z host  app - - - msg", /APP-NAME is empty/],
    ["no STRUCTURED-DATA", "<13>1 2003-10-11T22:14:15Z host app - ID47", /ends after its MSGID/],
    ["STRUCTURED-DATA glued to MSG", header({ sd: '[x@1 a="b"]x' }).replace(" msg", ""), /followed by "x", not by a space/],
    ["an SD-ID with =", header({ sd: '[x=1 a="b"]' }), /holds "=" where a space and a PARAM-NAME or its closing \] should be/],
    ["an unquoted PARAM-VALUE", header({ sd: "[x@1 a=b]" }), /PARAM-NAME a is not followed by ="/],
    ["an unterminated PARAM-VALUE", '<13>1 - h a - - [x@1 a="b', /no closing "/],
    ["an SD-ELEMENT without ]", '<13>1 - h a - - [x@1 a="b"', /no closing \]/],
    ["STRUCTURED-DATA that is neither - nor [", header({ sd: "x" }), /neither - nor \[SD-ID/]
  ])("refuses %s, naming the rule", (_, text, detail) => {
    const parsed = parse(text)
    expect(parsed).toMatchObject({ ok: false, reason: "bad-rfc5424" })
    if (!parsed.ok) expect(parsed.detail).toMatch(detail)
  })

  it("keeps a MSG that is not UTF-8 and has no BOM as its bytes", () => {
    const latin1 = Buffer.from("Grüße aus Köln", "latin1")
    const parsed = parseSyslog(Buffer.concat([Buffer.from('<13>1 2003-10-11T22:14:15Z host app 12 ID7 [x@1 k="v"] '), latin1]), { now: NOW })
    expect(parsed).toMatchObject({ ok: true, format: "rfc5424", hostname: "host", appName: "app", procId: "12", msgId: "ID7", bom: false, message: latin1.toString("utf8") })
    expect(parsed.ok && parsed.messageBytes?.equals(latin1)).toBe(true)
  })
})

describe("RFC 3164 (section 5.4 examples)", () => {
  it("example 1: HOSTNAME, TAG and MSG", () => {
    expect(parse("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8")).toEqual({
      ok: true,
      format: "rfc3164",
      facility: 4,
      severity: 2,
      timestamp: "Oct 11 22:14:15",
      hostname: "mymachine",
      appName: "su",
      procId: null,
      msgId: null,
      structuredData: null,
      time: { ms: Date.parse("2026-10-11T22:14:15Z"), us: 0, offset: null },
      message: "'su root' failed for lonvick on /dev/pts/8",
      messageBytes: null,
      bom: false,
      fields: null,
      damage: null
    })
  })

  it("example 2: a space-padded day and no TAG", () => {
    expect(parse("<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!")).toMatchObject({
      facility: 1,
      severity: 5,
      timestamp: "Feb  5 17:32:18",
      hostname: "10.0.0.99",
      appName: null,
      message: "Use the BFG!"
    })
  })

  it("example 3: a relayed message whose year lands in the MSG", () => {
    expect(parse("<165>Aug 24 05:34:00 CST 1987 mymachine myproc[10]: %% It's time to make the do-nuts.")).toMatchObject({
      timestamp: "Aug 24 05:34:00",
      hostname: "CST",
      appName: null,
      message: "1987 mymachine myproc[10]: %% It's time to make the do-nuts."
    })
  })

  it("example 4: no valid timestamp, so the rest is the message", () => {
    expect(parse("<0>1990 Oct 22 10:52:01 TZ-6 scapegoat.dmz.example.org 10.1.2.3 sched[0]: That's All Folks!")).toMatchObject({
      format: "rfc3164",
      facility: 0,
      severity: 0,
      timestamp: null,
      hostname: null,
      message: "1990 Oct 22 10:52:01 TZ-6 scapegoat.dmz.example.org 10.1.2.3 sched[0]: That's All Folks!"
    })
  })

  it("reads TAG[PID] and a missing HOSTNAME", () => {
    expect(parse("<30>Jan  1 00:00:00 host cron[42]: job done")).toMatchObject({ hostname: "host", appName: "cron", procId: "42", message: "job done" })
    expect(parse("<30>Jan 1 00:00:00 sshd[7]: hi")).toMatchObject({ hostname: null, appName: "sshd", procId: "7", message: "hi" })
  })

  it("fills fields when MSG is FortiOS key=value", () => {
    expect(parse('<189>Nov 27 05:54:07 fgt-1 fortigate: date=2026-11-27 time=05:54:07 devname="fgt-1"')).toMatchObject({
      hostname: "fgt-1",
      appName: "fortigate",
      fields: { date: "2026-11-27", time: "05:54:07", devname: "fgt-1" }
    })
  })
})

describe("RFC 3164 as real senders write it", () => {
  it("reads an RFC 3339 timestamp (rsyslog's high-precision template)", () => {
    expect(parse("<34>2003-10-11T22:14:15.003-02:00 mymachine su[99]: 'su root' failed")).toMatchObject({
      format: "rfc3164",
      timestamp: "2003-10-11T22:14:15.003-02:00",
      time: { ms: Date.parse("2003-10-12T00:14:15.003Z"), us: 0, offset: -120 },
      hostname: "mymachine",
      appName: "su",
      procId: "99",
      message: "'su root' failed"
    })
  })

  it("reads the month in any case", () => {
    for (const month of ["NOV", "nov", "nOv"]) {
      expect(parse(`<13>${month} 27 05:54:07 host app: hi`)).toMatchObject({ timestamp: `${month} 27 05:54:07`, time: { ms: Date.parse("2026-11-27T05:54:07Z") }, hostname: "host", appName: "app", message: "hi" })
    }
  })

  it("reads a year after the time", () => {
    expect(parse("<13>Apr 15 21:28:13 2007 myhost sshd[1]: hi")).toMatchObject({
      timestamp: "Apr 15 21:28:13 2007",
      time: { ms: Date.parse("2007-04-15T21:28:13Z"), us: 0, offset: null },
      hostname: "myhost",
      appName: "sshd",
      procId: "1",
      message: "hi"
    })
  })

  it("places a date without year in the latest year it is not more than a month ahead of", () => {
    const onNewYear = Date.parse("2027-01-01T00:00:30Z")
    expect(parseSyslog(Buffer.from("<13>Dec 31 23:59:59 h a: late"), { now: onNewYear })).toMatchObject({ time: { ms: Date.parse("2026-12-31T23:59:59Z") } })
    expect(parseSyslog(Buffer.from("<13>Jan 15 00:00:00 h a: early"), { now: Date.parse("2026-12-31T00:00:00Z") })).toMatchObject({ time: { ms: Date.parse("2027-01-15T00:00:00Z") } })
    expect(parseSyslog(Buffer.from("<13>Feb 29 12:00:00 h a: leap"), { now: NOW })).toMatchObject({ time: { ms: Date.parse("2024-02-29T12:00:00Z") } })
  })

  it("reads an IPv6 address as the HOSTNAME, even one that ends with a colon", () => {
    for (const address of ["2001:db8::1", "2001:db8::", "::1", "fe80::1:2:3:4"]) {
      expect(parse(`<13>Nov 27 05:54:07 ${address} app[7]: hi`)).toMatchObject({ hostname: address, appName: "app", procId: "7", message: "hi" })
    }
  })

  it("reads the TAG of a message without timestamp (and no HOSTNAME)", () => {
    expect(parse("<13>sshd[42]: Accepted publickey")).toMatchObject({ timestamp: null, time: null, hostname: null, appName: "sshd", procId: "42", message: "Accepted publickey" })
    expect(parse("<13>su: hi")).toMatchObject({ hostname: null, appName: "su", procId: null, message: "hi" })
    expect(parse("<13>just a message")).toMatchObject({ hostname: null, appName: null, message: "just a message" })
  })

  it("keeps a MSG that is not UTF-8 as its bytes", () => {
    const latin1 = Buffer.from("Grüße", "latin1")
    const parsed = parseSyslog(Buffer.concat([Buffer.from("<13>Nov 27 05:54:07 host app: "), latin1]), { now: NOW })
    expect(parsed).toMatchObject({ ok: true, format: "rfc3164", hostname: "host", appName: "app", message: latin1.toString("utf8") })
    expect(parsed.ok && parsed.messageBytes?.equals(latin1)).toBe(true)
  })
})

describe("FortiOS default format", () => {
  it("parses `<PRI>` followed directly by key=value", () => {
    const line =
      '<189>date=2026-11-27 time=05:54:07 devname="fgt-1" devid="FGT60FTK20000001" eventtime=1795845247123456789 tz="-0800" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=10.0.1.5 srcport=51234 action="close"\n'
    expect(parse(line)).toMatchObject({
      ok: true,
      format: "fortios",
      facility: 23,
      severity: 5,
      timestamp: "2026-11-27T05:54:07-08:00",
      hostname: "fgt-1",
      appName: null,
      message: line.slice(5, -1),
      fields: { devid: "FGT60FTK20000001", eventtime: "1795845247123456789", logid: "0000000013", srcport: "51234", action: "close" }
    })
  })

  it("parses a FAZ-forwarded record (logver first)", () => {
    expect(parse('<190>logver=702111340 timestamp=1700000000 devname="fgt-1" vd="root"')).toMatchObject({
      format: "fortios",
      timestamp: null,
      hostname: "fgt-1",
      fields: { logver: "702111340", timestamp: "1700000000" }
    })
  })

  it("reads date, time and tz as the timestamp, and fortiosTimeMs gives its instant without building it", () => {
    expect(parse('<189>date=2026-11-27 time=05:54:07 tz="-0800" devname="fgt-1"')).toMatchObject({
      timestamp: "2026-11-27T05:54:07-08:00",
      time: { ms: Date.parse("2026-11-27T13:54:07Z"), us: 0, offset: -480 }
    })
    const pad = (n: number, width = 2) => String(n).padStart(width, "0")
    fc.assert(
      fc.property(
        fc.integer({ min: 1970, max: 2100 }),
        fc.integer({ min: 0, max: 13 }),
        fc.integer({ min: 0, max: 32 }),
        fc.tuple(fc.integer({ min: 0, max: 24 }), fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 60 })),
        fc.option(fc.tuple(fc.constantFrom("+", "-"), fc.integer({ min: 0, max: 24 }), fc.integer({ min: 0, max: 60 })), { nil: undefined }),
        (year, month, day, [hour, minute, second], zone) => {
          const date = `${pad(year, 4)}-${pad(month)}-${pad(day)}`
          const time = `${pad(hour)}:${pad(minute)}:${pad(second)}`
          const tz = zone === undefined ? undefined : `${zone[0]}${pad(zone[1])}${pad(zone[2])}`
          const parsed = parse(`<189>date=${date} time=${time}${tz === undefined ? "" : ` tz="${tz}"`} devname="fgt-1"`)
          expect(parsed.ok && parsed.format).toBe("fortios")
          expect(fortiosTimeMs(date, time, tz)).toBe(parsed.ok ? (parsed.time?.ms ?? null) : undefined)
        }
      ),
      { numRuns: 500 }
    )
    expect(fortiosTimeMs(undefined, "05:54:07", undefined)).toBeNull()
  })

  it("falls back to RFC 3164 when the body only looks like key=value", () => {
    expect(parse("<13>status=broken today")).toMatchObject({ format: "rfc3164", message: "status=broken today", fields: null })
  })
})

describe("rejections", () => {
  it.each<[string, Buffer, MalformedReason]>([
    ["an empty frame", Buffer.alloc(0), "empty"],
    ["only a line ending", Buffer.from("\r\n"), "empty"],
    ["no PRI", Buffer.from("hello"), "bad-pri"],
    ["an empty PRI", Buffer.from("<>hello"), "bad-pri"],
    ["a PRI over 191", Buffer.from("<192>hello"), "bad-pri"],
    ["a 4-digit PRI", Buffer.from("<0013>hello"), "bad-pri"],
    ["an unclosed PRI", Buffer.from("<13 hello"), "bad-pri"],
    ["invalid UTF-8 in an RFC 3164 HOSTNAME", Buffer.from([...Buffer.from("<13>Nov 27 05:54:07 h"), 0xff, ...Buffer.from(" su: hi")]), "invalid-utf8"],
    ["invalid UTF-8 in an SD-PARAM value", Buffer.from([...Buffer.from('<13>1 - h a - - [x@1 k="'), 0xe9, ...Buffer.from('"] hi')]), "invalid-utf8"],
    ["invalid UTF-8 in FortiOS key=value", Buffer.from("3c3138393e646174653dfffe", "hex"), "invalid-utf8"],
    ["invalid UTF-8 after a BOM", Buffer.from([...Buffer.from("<13>1 - h a - - - \u{feff}caf"), 0xe9]), "invalid-utf8"],
    ["NUL padding", Buffer.alloc(64), "binary-garbage"],
    ["control-heavy bytes", Buffer.from("<13>\u0001\u0002\u0003\u0004abcdefgh", "latin1"), "binary-garbage"]
  ])("rejects %s", (_, frame, reason) => {
    const parsed = parseSyslog(frame)
    expect(parsed).toMatchObject({ ok: false, reason })
    if (!parsed.ok) expect(parsed.detail.length).toBeGreaterThan(0)
  })

  it("tolerates a stray control character and one trailing NUL", () => {
    expect(parse("<13>hello\u0007 world\u0000")).toMatchObject({ ok: true, message: "hello\u0007 world" })
  })

  it("never throws on arbitrary bytes and only reports known reasons", () => {
    const reasons = new Set<string>(["frame-too-large", "bad-octet-count", "invalid-utf8", "truncated", "bad-pri", "binary-garbage", "empty", "bad-rfc5424"])
    const frames = fc.oneof(
      fc.uint8Array({ maxLength: 2048 }),
      fc.tuple(fc.integer({ min: 0, max: 300 }), fc.uint8Array({ maxLength: 300 })).map(([pri, rest]) =>
        Uint8Array.from([...Buffer.from(`<${pri}>`), ...rest])
      )
    )
    fc.assert(
      fc.property(frames, (data) => {
        const parsed = parseSyslog(Buffer.from(data))
        if (parsed.ok) {
          expect(parsed.facility * 8 + parsed.severity).toBeLessThanOrEqual(191)
        } else {
          expect(reasons.has(parsed.reason)).toBe(true)
        }
      }),
      { numRuns: 1000 }
    )
  })
})

describe("summarizeSyslog", () => {
  const picker = new KeyPicker(["devname", "logid", "fazlab_seq", "msg"])
  const summarize = (text: string) => summarizeSyslog(Buffer.from(text, "utf8"), picker)

  it("reads a FortiOS default-format line: PRI, format and the picked fields only", () => {
    expect(summarize('<189>date=2026-11-27 devname="fgt-1" logid="0000000013" type="traffic" fazlab_seq=42\n')).toEqual({
      ok: true,
      format: "fortios",
      facility: 23,
      severity: 5,
      hostname: null,
      appName: null,
      msgId: null,
      timeMs: null,
      utf8: true,
      fields: ["fgt-1", "0000000013", "42", undefined],
      damage: null
    })
  })

  it("reads the header hostname and the MSG's fields of RFC 5424 and RFC 3164 messages", () => {
    expect(summarize('<134>1 2026-11-27T05:54:07Z fgt-1 - - - - devname="fgt-1" msg="a b"')).toMatchObject({
      format: "rfc5424",
      hostname: "fgt-1",
      fields: ["fgt-1", undefined, undefined, "a b"]
    })
    expect(summarize("<13>Nov 27 05:54:07 host1 su: not key value")).toMatchObject({ format: "rfc3164", hostname: "host1", fields: null })
    expect(summarize("<13>status=broken today")).toMatchObject({ format: "rfc3164", fields: null })
  })

  it("rejects what parseSyslog rejects, for the same reason", () => {
    expect(summarizeSyslog(Buffer.alloc(64), picker)).toEqual(parseSyslog(Buffer.alloc(64)))
    expect(summarize("<13>1 2003-10-11t22:14:15Z h a - - - x")).toEqual(parse("<13>1 2003-10-11t22:14:15Z h a - - - x"))
    expect(summarize("<192>hello")).toEqual(parse("<192>hello"))
  })

  it("agrees with parseSyslog on every message", () => {
    const keyValues = fc
      .array(fc.tuple(fc.constantFrom("devname", "logid", "fazlab_seq", "msg", "type", "x"), fc.string({ maxLength: 6 })), { maxLength: 5 })
      .map((pairs) => formatKeyValues(pairs))
    const body = fc.oneof(
      keyValues,
      keyValues.map((kv) => `1 2026-11-27T05:54:07Z host app - - - ${kv}`),
      keyValues.map((kv) => `Nov 27 05:54:07 host app[1]: ${kv}`),
      fc.string({ unit: fc.constantFrom("a", "=", '"', " ", "\\", "\u0001", "[", "]", "-", "1", "é"), maxLength: 30 }),
      fc.string({ unit: fc.constantFrom("1", " ", "-", "2026-11-27T05:54:07Z", "Nov 27 05:54:07", "h", "[", "]", "a@1", "k=", '"', "\\"), maxLength: 16 })
    )
    const frames = fc.oneof(
      fc.tuple(fc.integer({ min: 0, max: 200 }), body).map(([pri, text]) => Buffer.from(`<${pri}>${text}`, "utf8")),
      fc.tuple(fc.integer({ min: 0, max: 200 }), body, fc.uint8Array({ maxLength: 8 })).map(([pri, text, tail]) => Buffer.concat([Buffer.from(`<${pri}>${text}`, "utf8"), tail])),
      fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes))
    )
    fc.assert(
      fc.property(frames, (frame) => {
        const full = parseSyslog(frame, { now: NOW })
        const summary = summarizeSyslog(frame, picker, { now: NOW })
        if (!full.ok) {
          expect(summary).toEqual(full)
          return
        }
        const fields = full.fields
        expect(summary).toEqual({
          ok: true,
          format: full.format,
          facility: full.facility,
          severity: full.severity,
          hostname: full.format === "fortios" ? null : full.hostname,
          appName: full.appName,
          msgId: full.msgId,
          timeMs: full.format === "fortios" ? null : (full.time?.ms ?? null),
          utf8: full.messageBytes === null,
          fields: fields === null ? null : picker.keys.map((key) => fields[key]),
          damage: full.damage
        })
      }),
      { numRuns: 2000 }
    )
  })
})

describe("encodeSyslog", () => {
  const timestamp = new Date("2026-11-07T05:04:03.123Z")
  const base = { facility: FACILITIES.local7, severity: SEVERITIES.notice, hostname: "fgt-1", timestamp, message: "date=2026-11-07 x=1" }

  it("names facilities and FortiOS levels by their codes", () => {
    expect([FACILITIES.kernel, FACILITIES.kern, FACILITIES.user, FACILITIES.local0, FACILITIES.local7]).toEqual([0, 0, 1, 16, 23])
    expect(SEVERITY_NAMES.map((name) => SEVERITIES[name])).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
  })

  it("writes the three formats FortiOS offers", () => {
    expect(encodeSyslog({ ...base, format: "default" }).toString()).toBe("<189>date=2026-11-07 x=1")
    expect(encodeSyslog({ ...base, format: "rfc5424" }).toString()).toBe("<189>1 2026-11-07T05:04:03Z fgt-1 - - - - date=2026-11-07 x=1")
    expect(encodeSyslog({ ...base, format: "rfc5424", appName: "fortigate" }).toString()).toBe(
      "<189>1 2026-11-07T05:04:03Z fgt-1 fortigate - - - date=2026-11-07 x=1"
    )
    expect(encodeSyslog({ ...base, format: "rfc3164", appName: "fortigate" }).toString()).toBe("<189>Nov  7 05:04:03 fgt-1 fortigate: date=2026-11-07 x=1")
    expect(encodeSyslog({ ...base, format: "rfc3164" }).toString()).toBe("<189>Nov  7 05:04:03 fgt-1 date=2026-11-07 x=1")
  })

  it("writes an invalid date as the NILVALUE in RFC 5424", () => {
    expect(encodeSyslog({ ...base, format: "rfc5424", timestamp: new Date(Number.NaN) }).toString()).toContain("<189>1 - fgt-1")
  })

  it("round-trips every format through parseSyslog", () => {
    // "-" alone is the NILVALUE, read back as null.
    const word = fc.string({ unit: fc.constantFrom(..."abcXYZ019.-_"), minLength: 1, maxLength: 20 }).filter((w) => w !== "-")
    const text = fc.string({ unit: fc.constantFrom(..."ab =\"\\é€:[]<>\t"), maxLength: 80 })
    const fields = fc.uniqueArray(fc.tuple(fc.stringMatching(/^[a-z_]{1,10}$/), fc.oneof(text, fc.integer())), { selector: ([k]) => k, minLength: 1, maxLength: 8 })
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 0, max: 7 }),
        word,
        fc.option(word, { nil: undefined }),
        fields,
        fc.date({ min: new Date("1990-01-01T00:00:00Z"), max: new Date("2090-01-01T00:00:00Z"), noInvalidDate: true }),
        fc.constantFrom("default", "rfc5424", "rfc3164"),
        (facility, severity, hostname, appName, kv, timestamp, format) => {
          // Four digits after an RFC 3164 time are its year (as rsyslog reads them), not a HOSTNAME.
          fc.pre(format !== "rfc3164" || !/^\d{4}$/.test(hostname))
          const message = formatKeyValues(kv)
          const input = { format, facility, severity, hostname, timestamp, message, ...(appName === undefined ? {} : { appName }) } as const
          const parsed = parseSyslog(encodeSyslog(input))
          const expectedFields = Object.fromEntries(kv.map(([k, v]) => [k, String(v)]))
          expect(parsed).toMatchObject({ ok: true, facility, severity, message, fields: expectedFields })
          if (format === "default") expect(parsed).toMatchObject({ format: "fortios" })
          if (format === "rfc5424") {
            expect(parsed).toMatchObject({ format, hostname, appName: appName ?? null, timestamp: `${timestamp.toISOString().slice(0, 19)}Z` })
          }
          if (format === "rfc3164") expect(parsed).toMatchObject({ format, hostname, appName: appName ?? null })
        }
      ),
      { numRuns: 500 }
    )
  })

  it("round-trips every RFC 5424 header field, structured data with escapes included", () => {
    const printable = (max: number) => fc.string({ unit: fc.integer({ min: 33, max: 126 }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: max }).filter((w) => w !== "-")
    const sdName = fc.string({ unit: fc.constantFrom(..."abzAZ09@.-_[\\/:#!"), minLength: 1, maxLength: 32 })
    const element = fc.record({ id: sdName, params: fc.array(fc.record({ name: sdName, value: fc.string({ unit: fc.constantFrom(..."a \"\\]=[é€\t"), maxLength: 12 }) }), { maxLength: 4 }) })
    fc.assert(
      fc.property(
        fc.record({
          hostname: printable(255),
          appName: printable(48),
          procId: printable(128),
          msgId: printable(32),
          structuredData: fc.array(element, { maxLength: 3 }),
          bom: fc.boolean(),
          message: fc.string({ maxLength: 60 }).filter((m) => !/[\x00-\x08\x0b-\x1f\x7f]/.test(m) && !m.startsWith(BOM) && !/[\r\n]$/.test(m)),
          timestamp: fc.date({ min: new Date("1970-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59Z"), noInvalidDate: true })
        }, { requiredKeys: ["hostname", "structuredData", "bom", "message", "timestamp"] }),
        (input) => {
          const parsed = parseSyslog(encodeSyslog({ format: "rfc5424", facility: 4, severity: 2, ...input }), { now: NOW })
          const seconds = Math.floor(input.timestamp.getTime() / 1000) * 1000
          expect({ ...parsed, fields: null, damage: null }).toEqual({
            ok: true,
            format: "rfc5424",
            facility: 4,
            severity: 2,
            timestamp: `${input.timestamp.toISOString().slice(0, 19)}Z`,
            time: { ms: seconds, us: 0, offset: 0 },
            hostname: input.hostname,
            appName: input.appName ?? null,
            procId: input.procId ?? null,
            msgId: input.msgId ?? null,
            structuredData: input.structuredData.length === 0 ? null : input.structuredData,
            message: input.message,
            messageBytes: null,
            bom: input.bom,
            fields: null,
            damage: null
          })
        }
      ),
      { numRuns: 500 }
    )
  })

  it("round-trips every RFC 3164 header field", () => {
    const word = fc.string({ unit: fc.constantFrom(..."abcXYZ019.-_/"), minLength: 1, maxLength: 32 })
    fc.assert(
      fc.property(
        word.filter((w) => !/^\d{4}$/.test(w)),
        fc.option(word, { nil: undefined }),
        fc.option(fc.stringMatching(/^[0-9]{1,7}$/), { nil: undefined }),
        fc.date({ min: new Date("2026-01-01T00:00:00Z"), max: new Date("2026-11-30T23:59:59Z"), noInvalidDate: true }),
        fc.string({ unit: fc.constantFrom(..."ab é€:[]"), maxLength: 40 }).filter((m) => !m.startsWith(" ")),
        (hostname, appName, procId, timestamp, message) => {
          // Without a TAG, a MSG that starts like one (`ab: x`) is read as one.
          fc.pre(appName !== undefined || !/^[\w./-]+(\[[^\]]*\])?:/.test(message))
          const input = { format: "rfc3164", facility: 1, severity: 5, hostname, timestamp, message, ...(appName === undefined ? {} : { appName }), ...(procId === undefined ? {} : { procId }) } as const
          const parsed = parseSyslog(encodeSyslog(input), { now: NOW })
          expect(parsed).toMatchObject({
            ok: true,
            format: "rfc3164",
            time: { ms: Math.floor(timestamp.getTime() / 1000) * 1000, us: 0, offset: null },
            hostname,
            appName: appName ?? null,
            procId: appName === undefined ? null : (procId ?? null),
            message
          })
        }
      ),
      { numRuns: 500 }
    )
  })

  it("round-trips arbitrary text in RFC 5424 MSG", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }).filter((m) => !m.startsWith(BOM)), (message) => {
        const parsed = parseSyslog(encodeSyslog({ format: "rfc5424", facility: 1, severity: 6, hostname: "h", timestamp: new Date(0), message }))
        if (parsed.ok) expect(parsed.message).toBe(message.replace(/[\r\n]+$/, ""))
        else expect(parsed.reason).toBe("binary-garbage")
      }),
      { numRuns: 300 }
    )
  })
})
