/**
 * fazlab's HA frames (TCP/5199): exact bytes, round trips, every split point, every error, arbitrary
 * bytes. The round trips and the header errors are the shared cases of `../support/frames.ts`,
 * run with HA's constants and wording.
 */
import * as fs from "node:fs"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  encodeFrame,
  HA_ERROR_CODES,
  HA_FRAME_TYPES,
  HA_HEADER_BYTES,
  HA_MAX_FRAME_BYTES,
  type HaDecodeError,
  HaDecoder,
  type HaFrame,
  wireName
} from "../../src/protocols/ha/frames.ts"
import { cut, type Decoded, decodeChunks, headerErrorCases, roundTripCases } from "../support/frames.ts"

/** Decodes with the default max-frame-bytes unless given one. */
const decode = (chunks: ReadonlyArray<Buffer>, maxFrameBytes?: number): Decoded<HaFrame, HaDecodeError> =>
  decodeChunks(new HaDecoder(maxFrameBytes === undefined ? {} : { maxFrameBytes }), chunks)

/** A header with the given fields, then `body`. */
function raw(type: number, body: Buffer | string, options: { magic?: string; version?: number; length?: number } = {}): Buffer {
  const bodyBytes = typeof body === "string" ? Buffer.from(body, "utf8") : body
  const header = Buffer.alloc(HA_HEADER_BYTES)
  header.write(options.magic ?? "FZHA", 0, "latin1")
  header[4] = options.version ?? 1
  header[5] = type
  header.writeUInt32BE(options.length ?? bodyBytes.length, 6)
  return Buffer.concat([header, bodyBytes])
}

const STORED_LOG = { id: 7, receivedAt: 1_795_000_000_000, device: "fgt-1", devid: "FGT60FTK20000001", raw: 'msg="héllo ✓ 𝄞"', fields: null }

const EXAMPLES: ReadonlyArray<HaFrame> = [
  { type: "join", body: { serial: "FAZ-VM0000000002", groupId: 1, priority: 80, preferredRole: "secondary", lastSyncId: 0 } },
  { type: "join", body: { serial: "FAZ-VM0000000001", groupId: 255, priority: 120, preferredRole: "primary", lastSyncId: 41 } },
  { type: "welcome", body: { serial: "FAZ-VM0000000001", roster: ["FAZ-VM0000000002"], config: { adoms: ["root"], nested: { a: [1, null, true] } } } },
  { type: "heartbeat", body: { serial: "FAZ-VM0000000001", role: "primary", roster: ["FAZ-VM0000000002", "FAZ-VM0000000003"], at: 12_000 } },
  { type: "heartbeat", body: { serial: "FAZ-VM0000000002", role: "secondary", at: 0 } },
  { type: "log-sync", body: { firstSyncId: 1, records: [STORED_LOG, {}] } },
  { type: "log-sync", body: { firstSyncId: 9, records: [] } },
  { type: "sync-ack", body: { upTo: 8 } },
  { type: "config-sync", body: { devices: [{ serial: "FGT60FTK20000001", state: "authorized" }] } },
  { type: "handover", body: { serial: "FAZ-VM0000000001" } },
  { type: "goodbye", body: { reason: "faz-a stepped down" } },
  { type: "error", body: { code: "wrong-group", reason: "group-id 2 is not this group (1)" } }
]

describe("encodeFrame", () => {
  it("writes the 10-byte header: magic, version 1, type, body length; then the JSON body", () => {
    const bytes = encodeFrame({ type: "sync-ack", body: { upTo: 258 } })
    expect(bytes.subarray(0, HA_HEADER_BYTES).toString("hex")).toBe("465a4841" + "01" + "05" + "0000000c")
    expect(bytes.subarray(HA_HEADER_BYTES).toString("utf8")).toBe('{"upTo":258}')
  })

  it("refuses a body over the 16 MiB frame limit: the sender must split it", () => {
    const big = "x".repeat(HA_MAX_FRAME_BYTES)
    expect(() => encodeFrame({ type: "goodbye", body: { reason: big } })).toThrow(/over the 16777216-byte frame limit/)
  })
})

describe("round trips", () => {
  roundTripCases({ examples: EXAMPLES, name: (frame) => wireName(frame.type), encode: encodeFrame, decode })

  it("drops unknown JSON keys", () => {
    const body = JSON.stringify({ serial: "FAZ-VM0000000001", role: "primary", at: 5, futureField: [1, 2] })
    expect(decode([raw(0x03, body)]).frames).toEqual([{ type: "heartbeat", body: { serial: "FAZ-VM0000000001", role: "primary", at: 5 } }])
  })
})

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

const text = fc.string({ unit: "binary", maxLength: 30 })
const serial = text.filter((s) => s.length > 0)
const count = fc.maxSafeNat()
const role = fc.constantFrom("primary" as const, "secondary" as const)
const jsonLeaf = fc.oneof(text, fc.integer(), fc.boolean(), fc.constant(null))
const jsonObject = fc.dictionary(text, fc.oneof(jsonLeaf, fc.array(jsonLeaf, { maxLength: 3 }), fc.dictionary(text, jsonLeaf, { maxKeys: 2 })), { maxKeys: 4 })

const frameArbitrary: fc.Arbitrary<HaFrame> = fc.oneof(
  fc
    .record({
      serial,
      groupId: fc.integer({ min: 1, max: 255 }),
      priority: fc.integer({ min: 80, max: 120 }),
      preferredRole: role,
      lastSyncId: count
    })
    .map((body): HaFrame => ({ type: "join", body })),
  fc.record({ serial, roster: fc.array(serial, { maxLength: 3 }), config: jsonObject }).map((body): HaFrame => ({ type: "welcome", body })),
  fc
    .record({ serial, role, roster: fc.array(serial, { maxLength: 3 }), at: count }, { requiredKeys: ["serial", "role", "at"] })
    .map((body): HaFrame => ({ type: "heartbeat", body })),
  fc
    .record({ firstSyncId: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), records: fc.array(jsonObject, { maxLength: 4 }) })
    .map((body): HaFrame => ({ type: "log-sync", body })),
  count.map((upTo): HaFrame => ({ type: "sync-ack", body: { upTo } })),
  fc.array(jsonObject, { maxLength: 3 }).map((devices): HaFrame => ({ type: "config-sync", body: { devices } })),
  serial.map((s): HaFrame => ({ type: "handover", body: { serial: s } })),
  text.map((reason): HaFrame => ({ type: "goodbye", body: { reason } })),
  fc.record({ code: fc.constantFrom(...HA_ERROR_CODES), reason: text }).map((body): HaFrame => ({ type: "error", body }))
)

describe("properties", () => {
  it("any frames, cut anywhere, decode to themselves", () => {
    fc.assert(
      fc.property(fc.array(frameArbitrary, { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 12 }), (frames, offsets) => {
        const stream = Buffer.concat(frames.map(encodeFrame))
        expect(decode(cut(stream, offsets))).toEqual({ frames, error: null })
      })
    )
  })

  // Mostly-valid headers with random bodies, plus plain noise.
  const framish = fc.oneof(
    fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
    fc
      .tuple(fc.integer({ min: 0, max: 11 }), fc.uint8Array({ maxLength: 64 }), fc.nat({ max: 80 }), fc.boolean())
      .map(([type, body, length, honest]) => raw(type, Buffer.from(body), honest ? {} : { length })),
    frameArbitrary.map(encodeFrame)
  )

  it("arbitrary bytes never throw, and the outcome does not depend on chunking", () => {
    fc.assert(
      fc.property(fc.array(framish, { maxLength: 5 }), fc.array(fc.nat(), { maxLength: 10 }), (parts, offsets) => {
        const stream = Buffer.concat(parts)
        const whole = decode([stream])
        expect(decode(cut(stream, offsets))).toEqual(whole)
        if (whole.error !== null) expect(HA_ERROR_CODES).toContain(whole.error.code)
      })
    )
  })
})

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

describe("header errors", () => {
  headerErrorCases({
    magic: "FZHA",
    magicRule: 'an HA frame must start with "FZHA" (46 5a 48 41)',
    badVersion: "this member speaks HA frame version 1, the frame says version 2",
    headerBytes: HA_HEADER_BYTES,
    raw,
    decode,
    sample: encodeFrame({ type: "goodbye", body: { reason: "bye" } })
  })

  it("bad-magic for an OFTP frame sent to TCP/5199", () => {
    expect(decode([Buffer.from("OFTP")]).error).toEqual({ code: "bad-magic", detail: 'an HA frame must start with "FZHA" (46 5a 48 41), got 4f' })
  })

  it("frame-too-large over the default max-frame-bytes, 16 MiB", () => {
    expect(decode([raw(0x04, "", { length: HA_MAX_FRAME_BYTES + 1 })]).error).toEqual({
      code: "frame-too-large",
      detail: `the frame declares a ${HA_MAX_FRAME_BYTES + 1}-byte body, more than max-frame-bytes (${HA_MAX_FRAME_BYTES})`
    })
    expect(decode([raw(0x04, "", { length: HA_MAX_FRAME_BYTES })]).error).toBeNull()
  })
})

describe("body errors", () => {

  it.each([
    ["not UTF-8", raw(0x08, Buffer.from([0x7b, 0xff, 0x7d])), "the GOODBYE body is not UTF-8"],
    ["not JSON", raw(0x08, "{reason"), "the GOODBYE body is not JSON"],
    ["empty", raw(0x05, ""), "the SYNC_ACK body is not JSON"]
  ])("bad-body: %s", (_, bytes, detail) => {
    expect(decode([bytes]).error).toEqual({ code: "bad-body", detail })
  })

  it.each([
    ["a JOIN with group-id 0", 0x01, { serial: "FAZ-VM0000000002", groupId: 0, priority: 100, preferredRole: "secondary", lastSyncId: 0 }],
    ["a JOIN with priority 121", 0x01, { serial: "FAZ-VM0000000002", groupId: 1, priority: 121, preferredRole: "secondary", lastSyncId: 0 }],
    ["a JOIN with preferred-role master", 0x01, { serial: "FAZ-VM0000000002", groupId: 1, priority: 100, preferredRole: "master", lastSyncId: 0 }],
    ["a HEARTBEAT without a serial", 0x03, { role: "primary", at: 0 }],
    ["a LOG_SYNC from sync id 0", 0x04, { firstSyncId: 0, records: [] }],
    ["a LOG_SYNC record that is not an object", 0x04, { firstSyncId: 1, records: ["date=2026-11-27"] }],
    ["a SYNC_ACK with a fraction", 0x05, { upTo: 1.5 }],
    ["an ERROR with an unknown code", 0x09, { code: "teapot", reason: "no" }],
    ["a body that is an array", 0x08, ["bye"]]
  ])("bad-body: %s", (_, type, body) => {
    const error = decode([raw(type, JSON.stringify(body))]).error
    expect(error?.code).toBe("bad-body")
    expect(error?.detail).toMatch(/^the [A-Z_]+ body does not match the spec: [^\n]+$/)
  })
})

describe("constants", () => {
  it("numbers the nine types 0x01-0x09 as the spec does", () => {
    expect(Object.entries(HA_FRAME_TYPES).map(([name, byte]) => `${byte} ${wireName(name as keyof typeof HA_FRAME_TYPES)}`)).toEqual([
      "1 JOIN",
      "2 WELCOME",
      "3 HEARTBEAT",
      "4 LOG_SYNC",
      "5 SYNC_ACK",
      "6 CONFIG_SYNC",
      "7 HANDOVER",
      "8 GOODBYE",
      "9 ERROR"
    ])
  })

  it("error codes are all documented in docs/protocols/ha.md", () => {
    const doc = fs.readFileSync(new URL("../../docs/protocols/ha.md", import.meta.url), "utf8")
    for (const code of HA_ERROR_CODES) expect(doc).toContain(`\`${code}\``)
  })
})
