/** fazlab's FGFM messages: exact bytes, round trips, every split point, every error, arbitrary bytes. */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  encodeFgfm,
  FGFM_DEFAULT_MAX_MESSAGE_BYTES,
  FGFM_ERROR_CODES,
  FGFM_MAGIC,
  type FgfmDecodeError,
  FgfmDecoder,
  type FgfmMessage
} from "../../src/protocols/fgfm/frames.ts"

interface Outcome {
  readonly messages: FgfmMessage[]
  readonly error: FgfmDecodeError | null
}

/** Pushes every chunk; checks the decoder stays dead after its first error. */
function decode(chunks: ReadonlyArray<Buffer>, maxMessageBytes = FGFM_DEFAULT_MAX_MESSAGE_BYTES): Outcome {
  const decoder = new FgfmDecoder({ maxMessageBytes })
  const messages: FgfmMessage[] = []
  let error: FgfmDecodeError | null = null
  for (const chunk of chunks) {
    const result = decoder.push(chunk)
    if (error !== null) {
      expect(result).toEqual({ messages: [] })
      continue
    }
    messages.push(...result.messages)
    if (result.error !== undefined) error = result.error
  }
  return { messages, error }
}

/** A raw message: magic, total length, then `body` as given. */
const raw = (body: string | Buffer, magic = FGFM_MAGIC): Buffer => {
  const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body
  const header = Buffer.alloc(8)
  header.writeUInt32BE(magic, 0)
  header.writeUInt32BE(8 + bytes.length, 4)
  return Buffer.concat([header, bytes])
}

const REGISTER: FgfmMessage = {
  type: "register",
  serialno: "FGT60FTK20000001",
  hostname: "fgt-1",
  platform: "FortiGate-60F",
  version: "v7.4.4",
  keepaliveInterval: 300,
  sockTimeout: 900
}

const ALL: ReadonlyArray<FgfmMessage> = [
  REGISTER,
  { type: "register-reply", status: "pending", fmgSerialno: "FMG-VM0000000001", mgmtid: 1, keepaliveInterval: 300, sockTimeout: 900, chanWindowSz: 32768 },
  { type: "keepalive", serialno: "FGT60FTK20000001" },
  { type: "keepalive-reply" },
  { type: "status", status: "deleted" },
  { type: "close", reason: "" },
  { type: "error", code: "duplicate-session", reason: "FGT60FTK20000001 already has a session" }
]

describe("encodeFgfm", () => {
  it("writes the magic, the total length and CRLF key=value lines ending in NUL", () => {
    const bytes = encodeFgfm(REGISTER)
    const body = "request=register\r\nserialno=FGT60FTK20000001\r\nhostname=fgt-1\r\nplatform=FortiGate-60F\r\nversion=v7.4.4\r\nkeepalive_interval=300\r\nsock_timeout=900\r\n\0"
    expect(bytes.subarray(0, 4).toString("hex")).toBe("36e01100")
    expect(bytes.readUInt32BE(4)).toBe(bytes.length)
    expect(bytes.subarray(8).toString("utf8")).toBe(body)
  })

  it("refuses a value that would break the line structure", () => {
    expect(() => encodeFgfm({ type: "close", reason: "two\nlines" })).toThrow(RangeError)
    expect(() => encodeFgfm({ ...REGISTER, hostname: "a\0b" } as FgfmMessage)).toThrow(RangeError)
  })
})

describe("FgfmDecoder", () => {
  it("round-trips every message type, in one chunk and byte by byte", () => {
    const stream = Buffer.concat(ALL.map(encodeFgfm))
    expect(decode([stream]).messages).toEqual(ALL)
    expect(decode([...stream].map((byte) => Buffer.of(byte)))).toEqual({ messages: ALL, error: null })
  })

  it("reads LF line ends too, and ignores keys it does not use", () => {
    const outcome = decode([raw("request=keepalive\nserialno=FGT1\nfmg_ip=10.0.0.7\n\0")])
    expect(outcome).toEqual({ messages: [{ type: "keepalive", serialno: "FGT1" }], error: null })
  })

  it.each([
    ["bad-magic", raw("request=keepalive\r\nserialno=X\r\n\0", 0x36e01101), "a message must start with 36 e0 11 00, got 36 e0 11 01"],
    ["bad-length", Buffer.from("36e0110000000008", "hex"), "the message declares 8 bytes, fewer than the 9 of a header and a NUL"],
    ["message-too-large", Buffer.from("36e0110000010001", "hex"), "the message declares 65537 bytes, more than max-message-bytes (65536)"],
    ["bad-body", raw("request=keepalive\r\nserialno=X\r\n"), "the body does not end with a NUL"],
    ["bad-body", raw("request=keepalive\r\n\0serialno=X\r\n\0"), "the body has a NUL at byte 19 of 33; only the last byte may be NUL"],
    ["bad-body", raw(Buffer.from([0x72, 0x3d, 0xff, 0x0a, 0x00])), "the body is not UTF-8"],
    ["bad-body", raw("request=keepalive\r\nserialno\r\n\0"), "\"serialno\" is not a key=value line"],
    ["bad-body", raw("request=keepalive\r\nserialno=X\r\nserialno=Y\r\n\0"), "the key serialno appears twice"],
    ["bad-body", raw("request=keepalive\r\nserialno=X\0"), "the last line has no line break before the NUL"],
    ["unknown-message", raw("request=exec\r\n\0"), "request=exec is not a message fazlab knows (see docs/protocols/fgfm.md)"],
    ["unknown-message", raw("\0"), "the body is empty; the first line must be request=... or reply=..."],
    ["missing-field", raw("request=keepalive\r\n\0"), "request=keepalive has no serialno"],
    ["bad-field", raw("request=status\r\nstatus=maybe\r\n\0"), "request=status has status=maybe, expected one of pending, authorized, deleted"],
    ["bad-field", raw("request=register\r\nserialno=X\r\nhostname=h\r\nplatform=p\r\nversion=v\r\nkeepalive_interval=0\r\nsock_timeout=900\r\n\0"),
      "request=register has keepalive_interval=0, expected a whole number from 1 to 2147483647"]
  ])("%s: %s", (code, bytes, detail) => {
    // The same error whatever the chunking.
    expect(decode([bytes]).error).toEqual({ code, detail })
    expect(decode([...bytes].map((byte) => Buffer.of(byte))).error).toEqual({ code, detail })
  })

  it("keeps the messages decoded before an error", () => {
    const outcome = decode([Buffer.concat([encodeFgfm({ type: "keepalive-reply" }), Buffer.from("GET / HTTP/1.1\r\n")])])
    expect(outcome.messages).toEqual([{ type: "keepalive-reply" }])
    expect(outcome.error?.code).toBe("bad-magic")
  })

  it("never throws on arbitrary bytes, and reports only stable codes", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }), fc.boolean(), (chunks, withMagic) => {
        const prefix = withMagic ? [Buffer.from("36e01100", "hex")] : []
        const outcome = decode([...prefix, ...chunks.map((chunk) => Buffer.from(chunk))], 1024)
        if (outcome.error !== null) expect(FGFM_ERROR_CODES).toContain(outcome.error.code)
      }),
      { numRuns: 2000 }
    )
  })

  it("decodes any message the encoder writes, however it is split", () => {
    const text = fc.string({ maxLength: 20 }).filter((s) => !/[\r\n\0]/u.test(s))
    const message: fc.Arbitrary<FgfmMessage> = fc.oneof(
      fc.record({
        type: fc.constant("register" as const),
        serialno: text.filter((s) => s !== ""),
        hostname: text.filter((s) => s !== ""),
        platform: text,
        version: text,
        keepaliveInterval: fc.integer({ min: 1, max: 0x7fffffff }),
        sockTimeout: fc.integer({ min: 1, max: 0x7fffffff })
      }),
      fc.record({ type: fc.constant("close" as const), reason: text }),
      fc.record({ type: fc.constant("status" as const), status: fc.constantFrom("pending" as const, "authorized" as const, "deleted" as const) })
    )
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 5 }), fc.integer({ min: 1, max: 50 }), (messages, size) => {
        const stream = Buffer.concat(messages.map(encodeFgfm))
        const chunks: Buffer[] = []
        for (let i = 0; i < stream.length; i += size) chunks.push(stream.subarray(i, i + size))
        expect(decode(chunks)).toEqual({ messages, error: null })
      })
    )
  })
})
