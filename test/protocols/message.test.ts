/** One syslog message: RFC 5424 and 3164 examples, FortiOS lines, rejections, encode/parse round trips. */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { MalformedReason } from "../../src/events/events.ts"
import { formatKeyValues, KeyPicker } from "../../src/protocols/fortios/kv.ts"
import { encodeSyslog, FACILITIES, SEVERITIES, SEVERITY_NAMES } from "../../src/protocols/syslog/encode.ts"
import { parseSyslog, summarizeSyslog } from "../../src/protocols/syslog/message.ts"

const BOM = "\u{feff}"
const parse = (text: string) => parseSyslog(Buffer.from(text, "utf8"))

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
      message: "'su root' failed for lonvick on /dev/pts/8",
      fields: null
    })
  })

  it("example 2: a PROCID and a MSG without BOM", () => {
    expect(parse("<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.")).toMatchObject({
      format: "rfc5424",
      facility: 20,
      severity: 5,
      timestamp: "2003-08-24T05:14:15.000003-07:00",
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
      structuredData: sd,
      message: "An application event log entry..."
    })
  })

  it("example 4: two SD elements and no MSG", () => {
    const sd = '[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]'
    expect(parse(`<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 ${sd}`)).toMatchObject({
      format: "rfc5424",
      structuredData: sd,
      message: ""
    })
  })

  it("keeps escaped ] and \" inside SD values", () => {
    const sd = '[x@1 a="b\\]c\\"d ] e"]'
    expect(parse(`<13>1 - host app - - ${sd} msg`)).toMatchObject({ timestamp: null, structuredData: sd, message: "msg" })
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

  it("falls back to the lenient RFC 3164 reading when the header does not parse", () => {
    expect(parse("<13>1 hello")).toMatchObject({ format: "rfc3164", timestamp: null, message: "1 hello" })
    expect(parse("<13>1 - host app - - [unterminated msg")).toMatchObject({ format: "rfc3164", message: "1 - host app - - [unterminated msg" })
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
      message: "'su root' failed for lonvick on /dev/pts/8",
      fields: null
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
    ["invalid UTF-8", Buffer.from([0x3c, 0x31, 0x33, 0x3e, 0x68, 0xff, 0xfe, 0x69]), "invalid-utf8"],
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
    const reasons = new Set<string>(["frame-too-large", "bad-octet-count", "invalid-utf8", "truncated", "bad-pri", "binary-garbage", "empty"])
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
      fields: ["fgt-1", "0000000013", "42", undefined]
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
      fc.string({ unit: fc.constantFrom("a", "=", '"', " ", "\\", "\u0001", "[", "]", "-", "1", "é"), maxLength: 30 })
    )
    const frames = fc.oneof(
      fc.tuple(fc.integer({ min: 0, max: 200 }), body).map(([pri, text]) => Buffer.from(`<${pri}>${text}`, "utf8")),
      fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes))
    )
    fc.assert(
      fc.property(frames, (frame) => {
        const full = parseSyslog(frame)
        const summary = summarizeSyslog(frame, picker)
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
          fields: fields === null ? null : picker.keys.map((key) => fields[key])
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
