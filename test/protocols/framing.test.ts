/** RFC 6587 deframing: both framings, every split point, every error, and chunking-independence. */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { MalformedReason } from "../../src/events/events.ts"
import { encodeLf, encodeOctetCounted, SyslogDeframer } from "../../src/protocols/syslog/framing.ts"
import { cut } from "../support/frames.ts"

const REASONS: ReadonlySet<MalformedReason> = new Set<MalformedReason>([
  "frame-too-large",
  "bad-octet-count",
  "invalid-utf8",
  "truncated",
  "bad-pri",
  "binary-garbage",
  "empty"
])

interface Outcome {
  readonly frames: string[]
  readonly error: { readonly reason: MalformedReason; readonly fatal: boolean } | null
  readonly endError: { readonly reason: MalformedReason; readonly fatal: boolean } | null
}

/** Feeds `chunks` then ends the connection; frames as latin1 strings for readable diffs. */
function run(chunks: ReadonlyArray<Buffer>, maxFrameBytes = 1024): Outcome {
  const deframer = new SyslogDeframer({ maxFrameBytes })
  const frames: string[] = []
  let error: Outcome["error"] = null
  for (const chunk of chunks) {
    const result = deframer.push(chunk)
    for (const frame of result.frames) frames.push(frame.toString("latin1"))
    if (result.error !== undefined && error === null) error = { reason: result.error.reason, fatal: result.error.fatal }
  }
  const end = deframer.end()
  for (const frame of end.frames) frames.push(frame.toString("latin1"))
  const endError = end.error === undefined ? null : { reason: end.error.reason, fatal: end.error.fatal }
  return { frames, error, endError }
}


const bytes = (text: string): Buffer => Buffer.from(text, "latin1")

describe("octet counting", () => {
  const messages = ["<189>date=2026-11-27 time=05:54:07", "<13>hi", "<14>a message with\nan embedded line feed"]
  const stream = Buffer.concat(messages.map((m) => encodeOctetCounted(bytes(m))))

  it("detects the mode from the first byte and delivers every frame of one chunk", () => {
    const deframer = new SyslogDeframer({ maxFrameBytes: 1024 })
    expect(deframer.mode).toBe("unknown")
    const result = deframer.push(stream)
    expect(deframer.mode).toBe("octet-counting")
    expect(result.frames.map((f) => f.toString("latin1"))).toEqual(messages)
    expect(result.error).toBeUndefined()
  })

  it("delivers the same frames when the stream is split at any byte", () => {
    for (let at = 0; at <= stream.length; at++) {
      expect(run(cut(stream, [at]))).toEqual({ frames: messages, error: null, endError: null })
    }
  })

  it("delivers the same frames when every byte is its own chunk", () => {
    const chunks = [...stream].map((b) => Buffer.from([b]))
    expect(run(chunks)).toEqual({ frames: messages, error: null, endError: null })
  })

  it("writes MSG-LEN in bytes, not characters", () => {
    expect(encodeOctetCounted(Buffer.from("<13>é", "utf8")).toString("utf8")).toBe("6 <13>é")
  })

  it.each([
    ["a leading zero", "05 <13>x"],
    ["a non-digit in the count", "1a <13>x"],
    ["a missing space", "5<13>x"],
    ["more than 10 digits", "12345678901 <13>x"]
  ])("rejects %s as a fatal bad-octet-count", (_, text) => {
    const result = new SyslogDeframer({ maxFrameBytes: 1024 }).push(bytes(text))
    expect(result.frames).toEqual([])
    expect(result.error).toMatchObject({ reason: "bad-octet-count", fatal: true })
  })

  it("rejects a count after a valid frame, keeping the frames before it", () => {
    const result = new SyslogDeframer({ maxFrameBytes: 1024 }).push(bytes("6 <13>hi<14>oops"))
    expect(result.frames.map((f) => f.toString("latin1"))).toEqual(["<13>hi"])
    expect(result.error).toMatchObject({ reason: "bad-octet-count", fatal: true })
  })

  it("rejects a declared length over the limit before reading the body", () => {
    const deframer = new SyslogDeframer({ maxFrameBytes: 100 })
    expect(deframer.push(bytes("100 ")).error).toBeUndefined()
    expect(deframer.push(bytes("x".repeat(100))).frames).toHaveLength(1)
    const result = deframer.push(bytes("101 "))
    expect(result.error).toMatchObject({ reason: "frame-too-large", fatal: true })
    expect(result.error?.detail).toContain("101")
  })

  it("stops after a fatal error", () => {
    const deframer = new SyslogDeframer({ maxFrameBytes: 1024 })
    expect(deframer.push(bytes("0 ")).error?.fatal).toBe(true)
    expect(deframer.push(bytes("6 <13>hi"))).toEqual({ frames: [] })
    expect(deframer.end()).toEqual({ frames: [] })
  })

  it("reports a frame cut short by the end of the connection as truncated, not fatal", () => {
    expect(run([bytes("6 <13>hi10 <13>")])).toEqual({
      frames: ["<13>hi"],
      error: null,
      endError: { reason: "truncated", fatal: false }
    })
    expect(run([bytes("10 ")]).endError).toEqual({ reason: "truncated", fatal: false })
    expect(run([bytes("10")]).endError).toEqual({ reason: "truncated", fatal: false })
  })
})

describe("non-transparent (LF) framing", () => {
  const stream = bytes("<13>one\n<13>two\r\n<13>three\u0000\n<13>four\n")
  const expected = ["<13>one", "<13>two", "<13>three", "<13>four"]

  it("accepts LF, CRLF and NUL trailers, strips the CR and skips empty lines", () => {
    const deframer = new SyslogDeframer({ maxFrameBytes: 1024 })
    const result = deframer.push(stream)
    expect(deframer.mode).toBe("non-transparent")
    expect(result.frames.map((f) => f.toString("latin1"))).toEqual(expected)
  })

  it("delivers the same frames when the stream is split at any byte", () => {
    for (let at = 0; at <= stream.length; at++) {
      expect(run(cut(stream, [at]))).toEqual({ frames: expected, error: null, endError: null })
    }
  })

  it("delivers a non-empty unterminated last line at the end, as rsyslog does", () => {
    expect(run([bytes("<13>a\n<13>last\r")])).toEqual({ frames: ["<13>a", "<13>last"], error: null, endError: null })
  })

  it("rejects a line longer than the limit, terminated or not", () => {
    expect(run([bytes(`<13>${"x".repeat(6)}\n`)], 10).error).toBeNull()
    expect(run([bytes(`<13>${"x".repeat(7)}\n`)], 10).error).toEqual({ reason: "frame-too-large", fatal: true })
    expect(run([bytes("<13>"), bytes("x".repeat(7))], 10).error).toEqual({ reason: "frame-too-large", fatal: true })
  })

  it("writes one LF after the message", () => {
    expect(encodeLf(bytes("<13>x")).toString("latin1")).toBe("<13>x\n")
  })
})

describe("first byte", () => {
  it.each([["a letter", "hello\n"], ["a NUL", "\u0000\u0001"], ["a TLS ClientHello", "\u0016\u0003\u0001"]])(
    "rejects %s as fatal binary-garbage",
    (_, text) => {
      const deframer = new SyslogDeframer({ maxFrameBytes: 1024 })
      const result = deframer.push(bytes(text))
      expect(result.error).toMatchObject({ reason: "binary-garbage", fatal: true })
      expect(deframer.mode).toBe("unknown")
    }
  )
})

describe("properties", () => {
  const frameBody = fc.uint8Array({ minLength: 1, maxLength: 200 })
  const offsets = fc.array(fc.nat({ max: 5000 }), { maxLength: 12 })

  it("octet counting delivers exactly the frames of a valid stream, however it is chunked", () => {
    fc.assert(
      fc.property(fc.array(frameBody, { minLength: 1, maxLength: 12 }), offsets, (bodies, cuts) => {
        const stream = Buffer.concat(bodies.map((b) => encodeOctetCounted(Buffer.from(b))))
        const expected = bodies.map((b) => Buffer.from(b).toString("latin1"))
        expect(run(cut(stream, cuts))).toEqual({ frames: expected, error: null, endError: null })
      }),
      { numRuns: 500 }
    )
  })

  it("LF framing delivers exactly the lines of a valid stream, however it is chunked", () => {
    // A line: `<` then bytes other than LF and NUL, not ending in CR.
    const line = fc
      .uint8Array({ maxLength: 120 })
      .map((b) => `<${Buffer.from(b.filter((x) => x !== 0x0a && x !== 0x00)).toString("latin1")}`.replace(/\r+$/, ""))
    const trailer = fc.constantFrom("\n", "\r\n", "\u0000")
    fc.assert(
      fc.property(fc.array(fc.tuple(line, trailer), { minLength: 1, maxLength: 12 }), offsets, (lines, cuts) => {
        const stream = bytes(lines.map(([l, t]) => l + t).join(""))
        expect(run(cut(stream, cuts))).toEqual({ frames: lines.map(([l]) => l), error: null, endError: null })
      }),
      { numRuns: 500 }
    )
  })

  it("never throws on arbitrary bytes, reports known reasons, and does not depend on chunking", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), offsets, fc.integer({ min: 1, max: 300 }), (data, cuts, max) => {
        const stream = Buffer.from(data)
        const whole = run([stream], max)
        const chunked = run(cut(stream, cuts), max)
        expect(chunked).toEqual(whole)
        for (const error of [whole.error, whole.endError]) {
          if (error !== null) expect(REASONS.has(error.reason)).toBe(true)
        }
      }),
      { numRuns: 1000 }
    )
  })

  it("does not depend on chunking for streams that start like syslog", () => {
    const start = fc.constantFrom("<", "1", "12 ", "9")
    const alphabet = fc.constantFrom(..."0123456789 <>\n\r\u0000ab")
    fc.assert(
      fc.property(start, fc.string({ unit: alphabet, maxLength: 300 }), offsets, fc.integer({ min: 1, max: 40 }), (head, tail, cuts, max) => {
        const stream = bytes(head + tail)
        expect(run(cut(stream, cuts), max)).toEqual(run([stream], max))
      }),
      { numRuns: 1000 }
    )
  })
})
