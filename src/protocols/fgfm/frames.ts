/**
 * fazlab's FGFM messages: the codec for the emulated FortiGate ↔ FortiManager protocol (TCP/541,
 * inside TLS).
 *
 * The framing follows what is public (docs/protocols/fgfm.md): a 4-byte magic 0x36E01100, a 4-byte
 * big-endian length that covers the whole message (8 header bytes + body), and a text body of
 * `key=value` lines ending in one NUL. fazlab writes CRLF line ends, as the public fuzzer does, and
 * reads CRLF or LF. The first line names the message (`request=register`, `reply=register`, ...);
 * the keys after it (`serialno`, `keepalive_interval`, `sock_timeout`, `chan_window_sz`, ...) are
 * the ones the FortiManager protocol guide shows, plus fazlab's own where it shows none. The
 * message set and its meaning are fazlab's. Pure: bytes in, values out, and back.
 *
 * Decisions worth knowing:
 * - `FgfmDecoder` is a streaming decoder for one connection. Header bytes are checked as they
 *   arrive, so the error reported for a byte stream does not depend on how it was chunked. The
 *   first error kills the decoder: later pushes return nothing. It never throws.
 * - Keys the message type does not use are ignored (room for later versions); a key twice, a line
 *   without `=`, a NUL inside the body or a body that is not UTF-8 is an error.
 * - `encodeFgfm` trusts its typed input except where a value cannot be put on the wire (CR, LF or
 *   NUL inside a value): it throws a RangeError, a bug in the caller, never a reaction to input.
 */
import { isUtf8 } from "node:buffer"
import { hexBytes } from "../shared/frame-decoder.ts"

/** The magic of every FGFM message, from the public fuzzer (research notes §5, G2). */
export const FGFM_MAGIC = 0x36e01100
/** Magic and length. */
export const FGFM_HEADER_BYTES = 8
/** `max-message-bytes` default: the largest message (header included) a receiver accepts. */
export const FGFM_DEFAULT_MAX_MESSAGE_BYTES = 65_536
/** `chan_window_sz` the protocol guide's example shows. */
export const FGFM_CHANNEL_WINDOW = 32_768

/** Stable error codes: counted, published and sent in `reply=error` messages. */
export const FGFM_ERROR_CODES = [
  "bad-magic",
  "bad-length",
  "message-too-large",
  "bad-body",
  "unknown-message",
  "missing-field",
  "bad-field",
  "register-required",
  "register-timeout",
  "handshake-timeout",
  "handshake-failed",
  "sock-timeout",
  "duplicate-session",
  "device-deleted",
  "discover-required",
  "discover-timeout"
] as const

export type FgfmErrorCode = (typeof FGFM_ERROR_CODES)[number]

export type FgfmAuthorization = "pending" | "authorized"

/** What a FortiGate says when it registers. Times in seconds, as on the wire. */
export interface FgfmRegister {
  readonly serialno: string
  readonly hostname: string
  readonly platform: string
  readonly version: string
  readonly keepaliveInterval: number
  readonly sockTimeout: number
}

/** The FortiManager's answer: the verdict and the timers the FortiGate is to use. */
export interface FgfmRegisterReply {
  readonly status: FgfmAuthorization
  readonly fmgSerialno: string
  readonly mgmtid: number
  readonly keepaliveInterval: number
  readonly sockTimeout: number
  readonly chanWindowSz: number
}

export type FgfmMessage =
  | ({ readonly type: "register" } & FgfmRegister)
  | ({ readonly type: "register-reply" } & FgfmRegisterReply)
  | { readonly type: "keepalive"; readonly serialno: string }
  | { readonly type: "keepalive-reply" }
  /** A FortiManager that connected to a device (Add Device by address) asks it to register. */
  | { readonly type: "discover"; readonly fmgSerialno: string }
  | { readonly type: "status"; readonly status: FgfmAuthorization | "deleted" }
  | { readonly type: "close"; readonly reason: string }
  | { readonly type: "error"; readonly code: FgfmErrorCode; readonly reason: string }

export type FgfmMessageType = FgfmMessage["type"]

export interface FgfmDecodeError {
  readonly code: FgfmErrorCode
  readonly detail: string
}

export interface FgfmDecodeResult {
  readonly messages: FgfmMessage[]
  readonly error?: FgfmDecodeError
}

/** The first line of each message type. */
const HEAD: { readonly [type in FgfmMessageType]: readonly ["request" | "reply", string] } = {
  register: ["request", "register"],
  "register-reply": ["reply", "register"],
  keepalive: ["request", "keepalive"],
  "keepalive-reply": ["reply", "keepalive"],
  discover: ["request", "discover"],
  status: ["request", "status"],
  close: ["request", "close"],
  error: ["reply", "error"]
}

/** The first line as text ("request=register"): how messages are named in errors and docs. */
export const fgfmHead = (type: FgfmMessageType): string => HEAD[type].join("=")

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

type Line = readonly [string, string | number]

const bodyLines = (message: FgfmMessage): ReadonlyArray<Line> => {
  switch (message.type) {
    case "register":
      return [
        ["serialno", message.serialno],
        ["hostname", message.hostname],
        ["platform", message.platform],
        ["version", message.version],
        ["keepalive_interval", message.keepaliveInterval],
        ["sock_timeout", message.sockTimeout]
      ]
    case "register-reply":
      return [
        ["code", 200],
        ["status", message.status],
        ["fmg_serialno", message.fmgSerialno],
        ["mgmtid", message.mgmtid],
        ["keepalive_interval", message.keepaliveInterval],
        ["sock_timeout", message.sockTimeout],
        ["chan_window_sz", message.chanWindowSz]
      ]
    case "keepalive":
      return [["serialno", message.serialno]]
    case "keepalive-reply":
      return [["code", 200]]
    case "discover":
      return [["fmg_serialno", message.fmgSerialno]]
    case "status":
      return [["status", message.status]]
    case "close":
      return [["reason", message.reason]]
    case "error":
      return [["error", message.code], ["reason", message.reason]]
  }
}

/** The bytes of one message, header included. */
export function encodeFgfm(message: FgfmMessage): Buffer {
  const lines: ReadonlyArray<Line> = [HEAD[message.type], ...bodyLines(message)]
  let text = ""
  for (const [key, value] of lines) {
    const shown = String(value)
    if (/[\r\n\0]/u.test(shown)) throw new RangeError(`FGFM ${key} must not contain CR, LF or NUL, got ${JSON.stringify(shown)}`)
    text += `${key}=${shown}\r\n`
  }
  const body = Buffer.from(`${text}\0`, "utf8")
  const out = Buffer.allocUnsafe(FGFM_HEADER_BYTES + body.length)
  out.writeUInt32BE(FGFM_MAGIC, 0)
  out.writeUInt32BE(out.length, 4)
  body.copy(out, FGFM_HEADER_BYTES)
  return out
}

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

const MAGIC_BYTES = Buffer.alloc(4)
MAGIC_BYTES.writeUInt32BE(FGFM_MAGIC, 0)

type Parsed = { readonly message: FgfmMessage } | { readonly error: FgfmDecodeError }

const fail = (code: FgfmErrorCode, detail: string): { readonly error: FgfmDecodeError } => ({ error: { code, detail } })

const KEY = /^[a-z][a-z0-9_]*$/u
/** Seconds and sizes on the wire: whole numbers without sign or leading zeros, below 2^31. */
const WHOLE = /^(?:0|[1-9][0-9]{0,9})$/u
const MAX_WHOLE = 0x7fff_ffff

/** Splits the body (NUL already removed) into keys and values, in order. */
function parseLines(text: string): Map<string, string> | FgfmDecodeError {
  const fields = new Map<string, string>()
  const lines = text.split("\n")
  // The last line ends with a line break: what follows it must be empty.
  if (lines.at(-1) !== "") return { code: "bad-body", detail: "the last line has no line break before the NUL" }
  lines.pop()
  for (const raw of lines) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw
    const eq = line.indexOf("=")
    const key = eq < 0 ? line : line.slice(0, eq)
    if (eq < 0 || !KEY.test(key)) return { code: "bad-body", detail: `${JSON.stringify(line.slice(0, 60))} is not a key=value line` }
    if (fields.has(key)) return { code: "bad-body", detail: `the key ${key} appears twice` }
    fields.set(key, line.slice(eq + 1))
  }
  return fields
}

/** Reads the fields of one message type; every getter reports its own missing or bad field. */
class Fields {
  readonly #fields: Map<string, string>
  readonly #head: string
  problem: FgfmDecodeError | null = null

  constructor(fields: Map<string, string>, head: string) {
    this.#fields = fields
    this.#head = head
  }

  text(key: string, allowEmpty = false): string {
    const value = this.#fields.get(key)
    if (value === undefined) return this.#fail("missing-field", `${this.#head} has no ${key}`)
    if (!allowEmpty && value === "") return this.#fail("bad-field", `${this.#head} has an empty ${key}`)
    return value
  }

  whole(key: string, minimum: number): number {
    const value = this.text(key)
    if (this.problem !== null) return 0
    const n = WHOLE.test(value) ? Number(value) : Number.NaN
    if (!(n >= minimum && n <= MAX_WHOLE)) return this.#fail("bad-field", `${this.#head} has ${key}=${value.slice(0, 20)}, expected a whole number from ${minimum} to ${MAX_WHOLE}`)
    return n
  }

  oneOf<T extends string>(key: string, values: ReadonlyArray<T>): T {
    const value = this.text(key)
    if (this.problem !== null) return values[0] as T
    const found = values.find((candidate) => candidate === value)
    if (found === undefined) return this.#fail("bad-field", `${this.#head} has ${key}=${value.slice(0, 20)}, expected one of ${values.join(", ")}`)
    return found
  }

  #fail<T>(code: FgfmErrorCode, detail: string): T {
    this.problem ??= { code, detail }
    return undefined as T
  }
}

const AUTHORIZATIONS = ["pending", "authorized"] as const
const STATUSES = ["pending", "authorized", "deleted"] as const

function readMessage(type: FgfmMessageType, f: Fields): FgfmMessage {
  switch (type) {
    case "register":
      return {
        type,
        serialno: f.text("serialno"),
        hostname: f.text("hostname"),
        platform: f.text("platform", true),
        version: f.text("version", true),
        keepaliveInterval: f.whole("keepalive_interval", 1),
        sockTimeout: f.whole("sock_timeout", 1)
      }
    case "register-reply":
      f.oneOf("code", ["200"])
      return {
        type,
        status: f.oneOf("status", AUTHORIZATIONS),
        fmgSerialno: f.text("fmg_serialno"),
        mgmtid: f.whole("mgmtid", 0),
        keepaliveInterval: f.whole("keepalive_interval", 1),
        sockTimeout: f.whole("sock_timeout", 1),
        chanWindowSz: f.whole("chan_window_sz", 1)
      }
    case "keepalive":
      return { type, serialno: f.text("serialno") }
    case "keepalive-reply":
      f.oneOf("code", ["200"])
      return { type }
    case "discover":
      return { type, fmgSerialno: f.text("fmg_serialno") }
    case "status":
      return { type, status: f.oneOf("status", STATUSES) }
    case "close":
      return { type, reason: f.text("reason", true) }
    case "error":
      return { type, code: f.oneOf("error", FGFM_ERROR_CODES), reason: f.text("reason", true) }
  }
}

const TYPES = Object.keys(HEAD) as ReadonlyArray<FgfmMessageType>

/** The body of one message, NUL included. */
function parseBody(body: Buffer): Parsed {
  const nul = body.indexOf(0)
  if (nul !== body.length - 1) {
    return fail("bad-body", nul < 0 ? "the body does not end with a NUL" : `the body has a NUL at byte ${nul} of ${body.length}; only the last byte may be NUL`)
  }
  const text = body.subarray(0, nul)
  if (!isUtf8(text)) return fail("bad-body", "the body is not UTF-8")
  const fields = parseLines(text.toString("utf8"))
  if (!(fields instanceof Map)) return { error: fields }
  const [first] = fields
  if (first === undefined) return fail("unknown-message", "the body is empty; the first line must be request=... or reply=...")
  const type = TYPES.find((candidate) => HEAD[candidate][0] === first[0] && HEAD[candidate][1] === first[1])
  if (type === undefined) return fail("unknown-message", `${first[0]}=${first[1].slice(0, 40)} is not a message fazlab knows (see docs/protocols/fgfm.md)`)
  const reader = new Fields(fields, fgfmHead(type))
  const message = readMessage(type, reader)
  return reader.problem === null ? { message } : { error: reader.problem }
}

/** Checks the header bytes present at `buffer[pos, pos + available)`, in byte order. */
function checkHeader(buffer: Buffer, pos: number, available: number, maxMessageBytes: number): FgfmDecodeError | null {
  const magicBytes = Math.min(available, 4)
  for (let i = 0; i < magicBytes; i++) {
    if (buffer[pos + i] !== MAGIC_BYTES[i]) {
      return { code: "bad-magic", detail: `a message must start with 36 e0 11 00, got ${hexBytes(buffer, pos, pos + i + 1)}` }
    }
  }
  if (available >= FGFM_HEADER_BYTES) {
    const length = buffer.readUInt32BE(pos + 4)
    if (length < FGFM_HEADER_BYTES + 1) {
      return { code: "bad-length", detail: `the message declares ${length} bytes, fewer than the 9 of a header and a NUL` }
    }
    if (length > maxMessageBytes) {
      return { code: "message-too-large", detail: `the message declares ${length} bytes, more than max-message-bytes (${maxMessageBytes})` }
    }
  }
  return null
}

/** Streaming decoder for one connection's byte stream (after TLS). */
export class FgfmDecoder {
  readonly #maxMessageBytes: number
  #dead = false
  #pending: Buffer = Buffer.alloc(0)

  constructor(options: { readonly maxMessageBytes: number }) {
    this.#maxMessageBytes = options.maxMessageBytes
  }

  push(chunk: Buffer): FgfmDecodeResult {
    if (this.#dead || chunk.length === 0) return { messages: [] }
    const buffer = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk])
    this.#pending = Buffer.alloc(0)
    const messages: FgfmMessage[] = []
    let pos = 0
    while (pos < buffer.length) {
      const available = buffer.length - pos
      const headerError = checkHeader(buffer, pos, available, this.#maxMessageBytes)
      if (headerError !== null) return this.#fail(messages, headerError)
      if (available < FGFM_HEADER_BYTES || available < buffer.readUInt32BE(pos + 4)) {
        // Copied: the caller may reuse its chunk.
        this.#pending = Buffer.from(buffer.subarray(pos))
        break
      }
      const length = buffer.readUInt32BE(pos + 4)
      const parsed = parseBody(buffer.subarray(pos + FGFM_HEADER_BYTES, pos + length))
      if ("error" in parsed) return this.#fail(messages, parsed.error)
      messages.push(parsed.message)
      pos += length
    }
    return { messages }
  }

  #fail(messages: FgfmMessage[], error: FgfmDecodeError): FgfmDecodeResult {
    this.#dead = true
    this.#pending = Buffer.alloc(0)
    return { messages, error }
  }
}
