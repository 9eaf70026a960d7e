/**
 * fazlab's OFTP frames: the codec for the emulated FortiGate → FortiAnalyzer protocol.
 *
 * Fortinet does not publish OFTP, so these bytes are fazlab's own (docs/protocols/oftp.md); they
 * travel inside TLS. A frame is a 12-byte header (`"OFTP"`, version 1, type, flags, body length,
 * all big-endian) and a body: JSON for HELLO, HELLO_REPLY, STATUS, CLOSE and ERROR, binary for
 * LOGS and ACK, nothing for KEEPALIVE and KEEPALIVE_REPLY. Pure: bytes in, values out, and back.
 *
 * Decisions worth knowing:
 * - `OftpDecoder` is a streaming decoder for one connection. Header fields are checked as soon as
 *   their bytes arrive, in byte order, so the error reported for a byte stream does not depend on
 *   how it was chunked. The first error kills the decoder: later pushes return nothing.
 * - Unknown flag bits are ignored (they are reserved for later versions); unknown JSON keys are
 *   dropped. Everything else that does not match the spec is `bad-body`, except a HELLO without a
 *   serial, which has its own code (`hello-missing-serial`).
 * - LOGS records are UTF-8 text without NUL; the body is checked to be UTF-8 as a whole and
 *   split on NUL bytes. Sequence numbers run from 1 to 2^53-1 (JavaScript's safe integers).
 * - `encodeFrame` trusts its typed input except where a value cannot be put on the wire (a NUL
 *   inside a record, a sequence number out of range, a body over 4 GiB): it throws a RangeError,
 *   which is a bug in the caller, never a reaction to input from the network.
 */
import { FrameDecoder } from "../shared/frame-decoder.ts"
import { oneLine, taggedFrameFormat } from "../shared/tagged-frames.ts"
import { isUtf8 } from "node:buffer"
import * as Predicate from "effect/Predicate"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"

/** The wire type byte of each frame, keyed by the `type` of the decoded value. */
export const OFTP_FRAME_TYPES = {
  hello: 0x01,
  "hello-reply": 0x02,
  logs: 0x03,
  ack: 0x04,
  keepalive: 0x05,
  "keepalive-reply": 0x06,
  status: 0x07,
  close: 0x08,
  error: 0x09
} as const

export type OftpFrameTypeName = keyof typeof OFTP_FRAME_TYPES

/** Stable error codes: the analyzer counts them, publishes them and sends them in ERROR frames. */
export const OFTP_ERROR_CODES = [
  "bad-magic",
  "bad-version",
  "unknown-type",
  "frame-too-large",
  "bad-body",
  "hello-missing-serial",
  "hello-required",
  "duplicate-session",
  "hello-timeout",
  "keepalive-timeout",
  "handshake-timeout",
  "tls-error",
  "too-many-connections",
  "device-deleted"
] as const

export type OftpErrorCode = (typeof OFTP_ERROR_CODES)[number]

export const OFTP_MAGIC = Buffer.from("OFTP", "latin1")
export const OFTP_VERSION = 1
export const OFTP_HEADER_BYTES = 12
/** `max-frame-bytes` default: the largest body a receiver accepts. */
export const OFTP_DEFAULT_MAX_FRAME_BYTES = 1024 * 1024
/** Sequence numbers are 1 ... 2^53-1. */
export const OFTP_MAX_SEQ = Number.MAX_SAFE_INTEGER

const LOGS_PREFIX_BYTES = 12
const ACK_BYTES = 8
const MAX_UINT32 = 0xffff_ffff
const MAX_SEQ_BIG = BigInt(OFTP_MAX_SEQ)

// ---------------------------------------------------------------------------------------------
// JSON bodies
// ---------------------------------------------------------------------------------------------

const PositiveInt = Schema.Int.check(Schema.isGreaterThan(0))
const Seq = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

/** FortiOS `upload-option` of `config log fortianalyzer setting`. */
export const UploadOption = Schema.Literals(["realtime", "1-minute", "5-minute", "store-and-upload"])
export type UploadOption = typeof UploadOption.Type

/** HELLO body: who the device is and how it will talk. */
export const Hello = Schema.Struct({
  serial: Schema.NonEmptyString,
  hostname: Schema.String,
  platform: Schema.String,
  version: Schema.String,
  vdoms: Schema.Array(Schema.String),
  adom: Schema.optionalKey(Schema.String),
  psk: Schema.optionalKey(Schema.String),
  uploadOption: UploadOption,
  keepaliveMs: PositiveInt
})
export type Hello = typeof Hello.Type

export const OftpAuthorization = Schema.Literals(["authorized", "pending"])
export type OftpAuthorization = typeof OftpAuthorization.Type

/** HELLO_REPLY body: the analyzer's verdict and where the device's log stream resumes. */
export const HelloReply = Schema.Struct({
  status: OftpAuthorization,
  analyzerSerial: Schema.NonEmptyString,
  adom: Schema.NullOr(Schema.String),
  /** Highest sequence number the analyzer has stored for this serial; 0 if none. */
  lastSeq: Seq,
  keepaliveMs: PositiveInt
})
export type HelloReply = typeof HelloReply.Type

const StatusBody = Schema.Struct({
  status: Schema.Literals(["authorized", "pending", "deleted"]),
  adom: Schema.NullOr(Schema.String)
})
const CloseBody = Schema.Struct({ reason: Schema.String })
const ErrorBody = Schema.Struct({ code: Schema.Literals(OFTP_ERROR_CODES), reason: Schema.String })
/** What is left of a HELLO when the rest is wrong: tells "no serial" apart from "bad body". */
const HelloSerial = Schema.Struct({ serial: Schema.NonEmptyString })

const decodeJson = Schema.decodeUnknownResult(Schema.fromJsonString(Schema.Unknown))
const decodeHello = Schema.decodeUnknownResult(Hello)
const decodeHelloSerial = Schema.decodeUnknownResult(HelloSerial)
const decodeHelloReply = Schema.decodeUnknownResult(HelloReply)
const decodeStatus = Schema.decodeUnknownResult(StatusBody)
const decodeClose = Schema.decodeUnknownResult(CloseBody)
const decodeError = Schema.decodeUnknownResult(ErrorBody)

// ---------------------------------------------------------------------------------------------
// Frames
// ---------------------------------------------------------------------------------------------

export type OftpFrame =
  | { readonly type: "hello"; readonly hello: Hello }
  | { readonly type: "hello-reply"; readonly reply: HelloReply }
  | { readonly type: "logs"; readonly firstSeq: number; readonly records: ReadonlyArray<string> }
  | { readonly type: "ack"; readonly upTo: number }
  | { readonly type: "keepalive" }
  | { readonly type: "keepalive-reply" }
  | { readonly type: "status"; readonly status: OftpAuthorization | "deleted"; readonly adom: string | null }
  | { readonly type: "close"; readonly reason: string }
  | { readonly type: "error"; readonly code: OftpErrorCode; readonly reason: string }

export interface OftpDecodeError {
  readonly code: OftpErrorCode
  readonly detail: string
}

/** The name the spec uses for a frame type: "hello-reply" → "HELLO_REPLY". */
export const wireName = (type: OftpFrameTypeName): string => type.toUpperCase().replace("-", "_")

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

function writeHeader(out: Buffer, type: OftpFrameTypeName, bodyBytes: number): void {
  if (bodyBytes > MAX_UINT32) throw new RangeError(`an OFTP ${wireName(type)} body of ${bodyBytes} bytes does not fit the 32-bit length field`)
  OFTP_MAGIC.copy(out, 0)
  out[4] = OFTP_VERSION
  out[5] = OFTP_FRAME_TYPES[type]
  out.writeUInt16BE(0, 6)
  out.writeUInt32BE(bodyBytes, 8)
}

function encodeBody(type: OftpFrameTypeName, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(OFTP_HEADER_BYTES + body.length)
  writeHeader(out, type, body.length)
  body.copy(out, OFTP_HEADER_BYTES)
  return out
}

const encodeJson = (type: OftpFrameTypeName, body: unknown): Buffer => encodeBody(type, Buffer.from(JSON.stringify(body), "utf8"))

function checkSeq(what: string, seq: number, minimum: number): void {
  if (!Number.isSafeInteger(seq) || seq < minimum) {
    throw new RangeError(`OFTP ${what} must be a whole number from ${minimum} to 2^53-1, got ${seq}`)
  }
}

function encodeLogs(firstSeq: number, records: ReadonlyArray<string>): Buffer {
  checkSeq("LOGS firstSeq", firstSeq, 1)
  const count = records.length
  if (count > MAX_UINT32) throw new RangeError(`an OFTP LOGS frame holds at most ${MAX_UINT32} records, got ${count}`)
  // Compared as a difference: firstSeq + count - 1 would round above 2^53.
  if (count > 0 && count - 1 > OFTP_MAX_SEQ - firstSeq) {
    throw new RangeError(`OFTP LOGS from sequence number ${firstSeq} cannot hold ${count} records: sequence numbers end at 2^53-1`)
  }
  let bodyBytes = LOGS_PREFIX_BYTES
  for (let i = 0; i < count; i++) bodyBytes += Buffer.byteLength(records[i] ?? "", "utf8") + 1
  const out = Buffer.allocUnsafe(OFTP_HEADER_BYTES + bodyBytes)
  writeHeader(out, "logs", bodyBytes)
  out.writeBigUInt64BE(BigInt(firstSeq), OFTP_HEADER_BYTES)
  out.writeUInt32BE(count, OFTP_HEADER_BYTES + 8)
  let pos = OFTP_HEADER_BYTES + LOGS_PREFIX_BYTES
  for (let i = 0; i < count; i++) {
    const record = records[i] ?? ""
    if (record.indexOf("\0") >= 0) throw new RangeError(`OFTP LOGS record ${firstSeq + i} contains a NUL character; records are NUL-terminated`)
    pos += out.write(record, pos, "utf8")
    out[pos++] = 0
  }
  return out
}

/** The bytes of one frame, header included. */
export function encodeFrame(frame: OftpFrame): Buffer {
  switch (frame.type) {
    case "hello":
      return encodeJson(frame.type, frame.hello)
    case "hello-reply":
      return encodeJson(frame.type, frame.reply)
    case "logs":
      return encodeLogs(frame.firstSeq, frame.records)
    case "ack": {
      checkSeq("ACK upTo", frame.upTo, 0)
      const out = Buffer.allocUnsafe(OFTP_HEADER_BYTES + ACK_BYTES)
      writeHeader(out, frame.type, ACK_BYTES)
      out.writeBigUInt64BE(BigInt(frame.upTo), OFTP_HEADER_BYTES)
      return out
    }
    case "keepalive":
    case "keepalive-reply":
      return encodeBody(frame.type, Buffer.alloc(0))
    case "status":
      return encodeJson(frame.type, { status: frame.status, adom: frame.adom })
    case "close":
      return encodeJson(frame.type, { reason: frame.reason })
    case "error":
      return encodeJson(frame.type, { code: frame.code, reason: frame.reason })
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

type BodyResult = { readonly frame: OftpFrame } | { readonly error: OftpDecodeError }

const badBody = (type: OftpFrameTypeName, what: string): BodyResult => ({
  error: { code: "bad-body", detail: `the ${wireName(type)} body ${what}` }
})

function decodeJsonBody<A>(type: OftpFrameTypeName, body: Buffer, decode: (input: unknown) => Result.Result<A, Schema.SchemaError>, make: (value: A) => OftpFrame): BodyResult {
  if (!isUtf8(body)) return badBody(type, "is not UTF-8")
  const json = decodeJson(body.toString("utf8"))
  if (Result.isFailure(json)) return badBody(type, "is not JSON")
  const value = decode(json.success)
  if (Result.isFailure(value)) return badBody(type, `does not match the spec: ${oneLine(value.failure.message)}`)
  return { frame: make(value.success) }
}

function decodeHelloBody(body: Buffer): BodyResult {
  const result = decodeJsonBody("hello", body, decodeHello, (hello) => ({ type: "hello", hello }))
  if ("frame" in result) return result
  // A HELLO that is a JSON object but has no usable serial gets its own code.
  const json = decodeJson(isUtf8(body) ? body.toString("utf8") : "")
  if (Result.isSuccess(json) && Predicate.isObject(json.success) && Result.isFailure(decodeHelloSerial(json.success))) {
    return { error: { code: "hello-missing-serial", detail: "the HELLO has no serial (a non-empty string): the analyzer cannot tell which device this is" } }
  }
  return result
}

function readSeq(body: Buffer, offset: number): number | null {
  const value = body.readBigUInt64BE(offset)
  return value > MAX_SEQ_BIG ? null : Number(value)
}

function decodeLogsBody(body: Buffer): BodyResult {
  const length = body.length
  if (length < LOGS_PREFIX_BYTES) return badBody("logs", `has ${length} bytes, fewer than the 12 of firstSeq and count`)
  const firstSeq = readSeq(body, 0)
  if (firstSeq === null || firstSeq < 1) return badBody("logs", `has firstSeq ${body.readBigUInt64BE(0)}, outside 1 ... 2^53-1`)
  const count = body.readUInt32BE(8)
  // Each record takes at least its NUL: a count larger than the bytes left is a lie.
  if (count > length - LOGS_PREFIX_BYTES) return badBody("logs", `declares ${count} records in ${length - LOGS_PREFIX_BYTES} bytes`)
  if (count > 0 && count - 1 > OFTP_MAX_SEQ - firstSeq) return badBody("logs", `runs past sequence number 2^53-1 (firstSeq ${firstSeq}, ${count} records)`)
  if (!isUtf8(body.subarray(LOGS_PREFIX_BYTES))) return badBody("logs", "holds records that are not UTF-8")
  const records: string[] = new Array<string>(count)
  let pos = LOGS_PREFIX_BYTES
  for (let i = 0; i < count; i++) {
    const nul = body.indexOf(0, pos)
    if (nul < 0) return badBody("logs", `declares ${count} records but only ${i} are NUL-terminated`)
    records[i] = body.toString("utf8", pos, nul)
    pos = nul + 1
  }
  if (pos !== length) return badBody("logs", `has ${length - pos} bytes after its ${count} records`)
  return { frame: { type: "logs", firstSeq, records } }
}

function decodeBody(type: OftpFrameTypeName, body: Buffer): BodyResult {
  switch (type) {
    case "hello":
      return decodeHelloBody(body)
    case "hello-reply":
      return decodeJsonBody(type, body, decodeHelloReply, (reply) => ({ type, reply }))
    case "logs":
      return decodeLogsBody(body)
    case "ack": {
      if (body.length !== ACK_BYTES) return badBody(type, `has ${body.length} bytes, expected 8 (upTo)`)
      const upTo = readSeq(body, 0)
      if (upTo === null) return badBody(type, `acknowledges up to ${body.readBigUInt64BE(0)}, beyond 2^53-1`)
      return { frame: { type, upTo } }
    }
    case "keepalive":
    case "keepalive-reply":
      return body.length === 0 ? { frame: { type } } : badBody(type, `must be empty, it has ${body.length} bytes`)
    case "status":
      return decodeJsonBody(type, body, decodeStatus, ({ status, adom }) => ({ type, status, adom }))
    case "close":
      return decodeJsonBody(type, body, decodeClose, ({ reason }) => ({ type, reason }))
    case "error":
      return decodeJsonBody(type, body, decodeError, ({ code, reason }) => ({ type, code, reason }))
  }
}

/**
 * Streaming decoder for one connection's byte stream. Decoded frames own their data: nothing
 * refers to the pushed chunks once `push` returns.
 */
export class OftpDecoder extends FrameDecoder<OftpFrame, OftpDecodeError> {
  constructor(options: { readonly maxFrameBytes: number }) {
    super(taggedFrameFormat({
      magic: OFTP_MAGIC,
      magicRule: `a frame must start with "OFTP" (4f 46 54 50)`,
      version: OFTP_VERSION,
      badVersion: (got) => `this analyzer speaks OFTP version ${OFTP_VERSION}, the frame says version ${got}`,
      types: OFTP_FRAME_TYPES,
      headerBytes: OFTP_HEADER_BYTES,
      lengthAt: 8,
      decodeBody
    }, options.maxFrameBytes))
  }
}
