/**
 * fazlab's OFTP frames: exact bytes, round trips, every split point, every error, arbitrary bytes.
 * The round trips and the header errors are the shared cases of `../support/frames.ts`, run with
 * OFTP's constants and wording.
 */
import * as fs from "node:fs"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  encodeFrame,
  type Hello,
  OFTP_ERROR_CODES,
  OFTP_FRAME_TYPES,
  OFTP_HEADER_BYTES,
  OFTP_MAX_SEQ,
  type OftpDecodeError,
  OftpDecoder,
  type OftpFrame,
  type OftpFrameTypeName
} from "../../src/protocols/oftp/frames.ts"
import { cut, type Decoded, decodeChunks, headerErrorCases, roundTripCases } from "../support/frames.ts"

const MAX = 1024 * 1024

const decode = (chunks: ReadonlyArray<Buffer>, maxFrameBytes = MAX): Decoded<OftpFrame, OftpDecodeError> =>
  decodeChunks(new OftpDecoder({ maxFrameBytes }), chunks)

/** A header with the given fields, then `body`. */
function raw(type: number, body: Buffer | string, options: { magic?: string; version?: number; flags?: number; length?: number } = {}): Buffer {
  const bodyBytes = typeof body === "string" ? Buffer.from(body, "utf8") : body
  const header = Buffer.alloc(OFTP_HEADER_BYTES)
  header.write(options.magic ?? "OFTP", 0, "latin1")
  header[4] = options.version ?? 1
  header[5] = type
  header.writeUInt16BE(options.flags ?? 0, 6)
  header.writeUInt32BE(options.length ?? bodyBytes.length, 8)
  return Buffer.concat([header, bodyBytes])
}

const hello: Hello = {
  serial: "FGT60FTK20000001",
  hostname: "fgt-1",
  platform: "FortiGate-60F",
  version: "v7.4.3,build2573",
  vdoms: ["root", "dmz"],
  adom: "root",
  psk: "s3cret",
  uploadOption: "realtime",
  keepaliveMs: 5000
}

const { adom: _adom, psk: _psk, ...bareHello } = hello

const RECORD = 'date=2026-11-27 time=06:00:00 devname="fgt-1" devid="FGT60FTK20000001" logid="0000000013" type="traffic" subtype="forward" msg="héllo ✓ 𝄞" fazlab_seq=1'

const EXAMPLES: ReadonlyArray<OftpFrame> = [
  { type: "hello", hello },
  { type: "hello", hello: { ...bareHello, vdoms: [], uploadOption: "store-and-upload" } },
  { type: "hello-reply", reply: { status: "pending", analyzerSerial: "FAZ-VM0000000001", adom: null, lastSeq: 0, keepaliveMs: 5000 } },
  { type: "hello-reply", reply: { status: "authorized", analyzerSerial: "FAZ-VM0000000001", adom: "root", lastSeq: OFTP_MAX_SEQ, keepaliveMs: 1 } },
  { type: "logs", firstSeq: 1, records: [RECORD, "", "x=1"] },
  { type: "logs", firstSeq: 41, records: [] },
  { type: "logs", firstSeq: OFTP_MAX_SEQ - 1, records: ["a=1", "b=2"] },
  { type: "ack", upTo: 0 },
  { type: "ack", upTo: OFTP_MAX_SEQ },
  { type: "keepalive" },
  { type: "keepalive-reply" },
  { type: "status", status: "deleted", adom: null },
  { type: "status", status: "authorized", adom: "root" },
  { type: "close", reason: "stopped by the administrator" },
  { type: "error", code: "duplicate-session", reason: "FGT60FTK20000001 already has a session" }
]

describe("encodeFrame", () => {
  it("writes the 12-byte header: magic, version 1, type, zero flags, body length", () => {
    expect(encodeFrame({ type: "keepalive" }).toString("hex")).toBe("4f46545001050000" + "00000000")
    expect(encodeFrame({ type: "ack", upTo: 258 }).toString("hex")).toBe("4f46545001040000" + "00000008" + "0000000000000102")
  })

  it("writes LOGS as firstSeq (uint64), count (uint32), then NUL-terminated UTF-8 records", () => {
    const bytes = encodeFrame({ type: "logs", firstSeq: 2 ** 40 + 7, records: ["a=1", "é=2"] })
    expect(bytes.subarray(0, 12).toString("hex")).toBe("4f46545001030000" + "00000015")
    expect(bytes.subarray(12).toString("hex")).toBe("0000010000000007" + "00000002" + "613d3100" + "c3a93d3200")
  })

  it("writes JSON bodies", () => {
    const bytes = encodeFrame({ type: "close", reason: "bye" })
    expect(bytes[5]).toBe(OFTP_FRAME_TYPES.close)
    expect(JSON.parse(bytes.subarray(12).toString("utf8"))).toEqual({ reason: "bye" })
  })

  it("refuses what cannot go on the wire", () => {
    expect(() => encodeFrame({ type: "logs", firstSeq: 1, records: ["a\0b"] })).toThrow(/NUL/)
    expect(() => encodeFrame({ type: "logs", firstSeq: 0, records: ["a"] })).toThrow(RangeError)
    expect(() => encodeFrame({ type: "logs", firstSeq: OFTP_MAX_SEQ, records: ["a", "b"] })).toThrow(RangeError)
    expect(() => encodeFrame({ type: "logs", firstSeq: 1.5, records: [] })).toThrow(RangeError)
    expect(() => encodeFrame({ type: "ack", upTo: -1 })).toThrow(RangeError)
    expect(() => encodeFrame({ type: "ack", upTo: OFTP_MAX_SEQ + 1 })).toThrow(RangeError)
  })
})

describe("round trips", () => {
  roundTripCases({ examples: EXAMPLES, name: (frame) => frame.type, encode: encodeFrame, decode })

  it("ignores unknown flag bits and unknown JSON keys", () => {
    const body = JSON.stringify({ ...hello, futureField: [1, 2] })
    expect(decode([raw(0x01, body, { flags: 0xffff }), raw(0x05, "", { flags: 0x8000 })]).frames).toEqual([
      { type: "hello", hello },
      { type: "keepalive" }
    ])
  })
})

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

const text = fc.string({ unit: "binary", maxLength: 40 })
const record = text.map((s) => s.replaceAll("\0", ""))
const nullable = fc.option(text, { nil: null })
const seq = fc.maxSafeNat()

const frameArbitrary: fc.Arbitrary<OftpFrame> = fc.oneof(
  fc
    .record(
      {
        serial: text.filter((s) => s.length > 0),
        hostname: text,
        platform: text,
        version: text,
        vdoms: fc.array(text, { maxLength: 4 }),
        adom: text,
        psk: text,
        uploadOption: fc.constantFrom("realtime", "1-minute", "5-minute", "store-and-upload"),
        keepaliveMs: fc.integer({ min: 1, max: OFTP_MAX_SEQ })
      },
      { requiredKeys: ["serial", "hostname", "platform", "version", "vdoms", "uploadOption", "keepaliveMs"] }
    )
    .map((h): OftpFrame => ({ type: "hello", hello: h })),
  fc
    .record({
      status: fc.constantFrom("authorized", "pending"),
      analyzerSerial: text.filter((s) => s.length > 0),
      adom: nullable,
      lastSeq: seq,
      keepaliveMs: fc.integer({ min: 1, max: 600_000 })
    })
    .map((reply): OftpFrame => ({ type: "hello-reply", reply })),
  fc
    .tuple(fc.integer({ min: 1, max: OFTP_MAX_SEQ - 50 }), fc.array(record, { maxLength: 50 }))
    .map(([firstSeq, records]): OftpFrame => ({ type: "logs", firstSeq, records })),
  seq.map((upTo): OftpFrame => ({ type: "ack", upTo })),
  fc.constant<OftpFrame>({ type: "keepalive" }),
  fc.constant<OftpFrame>({ type: "keepalive-reply" }),
  fc.record({ status: fc.constantFrom("authorized", "pending", "deleted"), adom: nullable }).map((s): OftpFrame => ({ type: "status", ...s })),
  text.map((reason): OftpFrame => ({ type: "close", reason })),
  fc.record({ code: fc.constantFrom(...OFTP_ERROR_CODES), reason: text }).map((e): OftpFrame => ({ type: "error", ...e }))
)

describe("properties", () => {
  it("any frames, cut anywhere, decode to themselves", () => {
    fc.assert(
      fc.property(fc.array(frameArbitrary, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 12 }), (frames, offsets) => {
        const stream = Buffer.concat(frames.map(encodeFrame))
        expect(decode(cut(stream, offsets.map((o) => o % (stream.length + 1))))).toEqual({ frames, error: null })
      }),
      { numRuns: 300 }
    )
  })

  /** Bytes that look like frames often enough to reach the body decoders. */
  const framish = fc.oneof(
    fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
    fc
      .tuple(fc.integer({ min: 0, max: 11 }), fc.uint8Array({ maxLength: 64 }), fc.nat({ max: 80 }), fc.boolean())
      .map(([type, body, length, honest]) => raw(type, Buffer.from(body), honest ? {} : { length }))
  )

  it("arbitrary bytes never throw, and the outcome does not depend on chunking", () => {
    fc.assert(
      fc.property(fc.array(framish, { maxLength: 5 }), fc.array(fc.nat(), { maxLength: 10 }), (parts, offsets) => {
        const stream = Buffer.concat(parts)
        const whole = decode([stream], 64)
        const chunked = decode(cut(stream, offsets.map((o) => o % (stream.length + 1))), 64)
        expect(chunked).toEqual(whole)
      }),
      { numRuns: 1000 }
    )
  })
})

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

describe("header errors", () => {
  headerErrorCases({
    magic: "OFTP",
    magicRule: 'a frame must start with "OFTP" (4f 46 54 50)',
    badVersion: "this analyzer speaks OFTP version 1, the frame says version 2",
    headerBytes: OFTP_HEADER_BYTES,
    raw,
    decode,
    sample: encodeFrame({ type: "close", reason: "x".repeat(1000) })
  })
})

describe("body errors", () => {
  const errorOf = (bytes: Buffer): OftpDecodeError | null => decode([bytes]).error

  it("hello-missing-serial for a HELLO object without a usable serial", () => {
    const { serial: _, ...withoutSerial } = hello
    for (const body of [withoutSerial, { ...hello, serial: "" }, { ...hello, serial: 42 }, {}]) {
      expect(errorOf(raw(0x01, JSON.stringify(body)))?.code).toBe("hello-missing-serial")
    }
  })

  const logsBody = (firstSeq: bigint, count: number, rest: Buffer): Buffer => {
    const prefix = Buffer.alloc(12)
    prefix.writeBigUInt64BE(firstSeq, 0)
    prefix.writeUInt32BE(count, 8)
    return Buffer.concat([prefix, rest])
  }

  const BAD_BODIES: ReadonlyArray<readonly [string, Buffer, RegExp]> = [
    ["HELLO that is not JSON", raw(0x01, "{serial"), /HELLO body is not JSON/],
    ["HELLO that is a JSON array", raw(0x01, "[]"), /HELLO body does not match/],
    ["HELLO with a wrong field", raw(0x01, JSON.stringify({ ...hello, uploadOption: "hourly" })), /uploadOption/],
    ["HELLO with keepaliveMs 0", raw(0x01, JSON.stringify({ ...hello, keepaliveMs: 0 })), /keepaliveMs/],
    ["HELLO that is not UTF-8", raw(0x01, Buffer.from([0x7b, 0xff, 0x7d])), /not UTF-8/],
    ["HELLO_REPLY with a negative lastSeq", raw(0x02, JSON.stringify({ status: "authorized", analyzerSerial: "F", adom: null, lastSeq: -1, keepaliveMs: 1 })), /lastSeq/],
    ["STATUS with an unknown status", raw(0x07, JSON.stringify({ status: "blocked", adom: null })), /status/],
    ["CLOSE without a reason", raw(0x08, "{}"), /reason/],
    ["ERROR with an unknown code", raw(0x09, JSON.stringify({ code: "oops", reason: "x" })), /code/],
    ["LOGS shorter than its prefix", raw(0x03, Buffer.alloc(11)), /fewer than the 12/],
    ["LOGS with firstSeq 0", raw(0x03, logsBody(0n, 1, Buffer.from("a\0"))), /firstSeq 0/],
    ["LOGS with firstSeq over 2^53-1", raw(0x03, logsBody(2n ** 53n, 1, Buffer.from("a\0"))), /firstSeq 9007199254740992/],
    ["LOGS running past 2^53-1", raw(0x03, logsBody(BigInt(OFTP_MAX_SEQ), 2, Buffer.from("a\0b\0"))), /runs past/],
    ["LOGS with more records than bytes", raw(0x03, logsBody(1n, 3, Buffer.from("a\0"))), /declares 3 records in 2 bytes/],
    ["LOGS with an unterminated record", raw(0x03, logsBody(1n, 2, Buffer.from("a\0bc"))), /only 1 are NUL-terminated/],
    ["LOGS with trailing bytes", raw(0x03, logsBody(1n, 1, Buffer.from("a\0b"))), /1 bytes after its 1 records/],
    ["LOGS that are not UTF-8", raw(0x03, logsBody(1n, 1, Buffer.from([0xc3, 0x28, 0]))), /not UTF-8/],
    ["ACK of the wrong size", raw(0x04, Buffer.alloc(4)), /expected 8/],
    ["ACK beyond 2^53-1", raw(0x04, Buffer.from("0020000000000000", "hex")), /beyond 2\^53-1/],
    ["KEEPALIVE with a body", raw(0x05, "x"), /must be empty/],
    ["KEEPALIVE_REPLY with a body", raw(0x06, "x"), /KEEPALIVE_REPLY body must be empty/]
  ]

  it.each(BAD_BODIES)("bad-body: %s", (_, bytes, detail) => {
    const error = errorOf(bytes)
    expect(error?.code).toBe("bad-body")
    expect(error?.detail).toMatch(detail)
    expect(error?.detail).not.toContain("\n")
  })

  it("returns the frames before the error, then stays dead", () => {
    const decoder = new OftpDecoder({ maxFrameBytes: MAX })
    const result = decoder.push(Buffer.concat([encodeFrame({ type: "keepalive" }), raw(0x05, "x"), encodeFrame({ type: "keepalive" })]))
    expect(result.frames).toEqual([{ type: "keepalive" }])
    expect(result.error?.code).toBe("bad-body")
    expect(decoder.push(encodeFrame({ type: "keepalive" }))).toEqual({ frames: [] })
  })
})

describe("frame type table", () => {
  it("numbers the nine types 0x01-0x09 as the spec does", () => {
    const byByte = Object.entries(OFTP_FRAME_TYPES).sort((a, b) => a[1] - b[1]).map(([name]) => name as OftpFrameTypeName)
    expect(byByte).toEqual(["hello", "hello-reply", "logs", "ack", "keepalive", "keepalive-reply", "status", "close", "error"])
    expect(Object.values(OFTP_FRAME_TYPES)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9])
  })
})

describe("error codes", () => {
  /** The codes in the first column of a Markdown table row: "| `code` | ...". */
  const tableCodes = (file: string): ReadonlyArray<string> =>
    [...fs.readFileSync(new URL(`../../${file}`, import.meta.url), "utf8").matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1] ?? "")

  it("are all documented in docs/protocols/oftp.md and docs/errors.md", () => {
    for (const file of ["docs/protocols/oftp.md", "docs/errors.md"]) {
      expect(tableCodes(file), file).toEqual(expect.arrayContaining([...OFTP_ERROR_CODES]))
    }
  })

  it("travel in ERROR frames, tls-error included; an unknown code is bad-body", () => {
    const frame: OftpFrame = { type: "error", code: "tls-error", reason: "TLS handshake failed: wrong version number" }
    expect(decode([encodeFrame(frame)]).frames).toEqual([frame])
    expect(decode([raw(0x09, JSON.stringify({ code: "no-such-code", reason: "?" }))]).error?.code).toBe("bad-body")
  })
})
