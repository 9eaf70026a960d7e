/**
 * The little of SMB2 (MS-SMB2) the analyzer's TCP/445 speaks: direct-TCP framing (a 4-byte
 * session header: a zero byte and a 24-bit big-endian length, MS-SMB2 2.1), the NEGOTIATE
 * request and response (2.2.3, 2.2.4), an error response (2.2.2) for everything after it, and
 * the SMB1 multi-protocol NEGOTIATE a client sends first when it also speaks SMB1 (MS-SMB2 3.3.5.3:
 * the server answers it with an SMB2 NEGOTIATE response for dialect 2.002 or the wildcard 2.???).
 *
 * Pure codec: `Smb2Decoder` turns bytes into requests or one error code, the encoders build the
 * responses. What the analyzer does with them is `devices/fortianalyzer/dc-polling.ts`.
 */
import { type FrameFormat, FrameDecoder, hexBytes } from "../shared/frame-decoder.ts"

/** A request larger than this before any session is no client's negotiate or session setup. */
export const SMB2_MAX_REQUEST_BYTES = 65_536

/** SMB2 commands by number (MS-SMB2 2.2.1.2); the ones a client sends first. */
export const SMB2_COMMANDS: Readonly<Record<number, string>> = {
  0: "NEGOTIATE",
  1: "SESSION_SETUP",
  2: "LOGOFF",
  3: "TREE_CONNECT",
  13: "ECHO"
}

/** NTSTATUS codes the analyzer answers with. */
export const NT_STATUS = {
  SUCCESS: 0x00000000,
  ACCESS_DENIED: 0xc0000022,
  NOT_SUPPORTED: 0xc00000bb,
  USER_SESSION_DELETED: 0xc0000203
} as const

/** The SMB2 dialects the analyzer negotiates, highest last; 3.1.1 (0x0311) needs negotiate contexts and is not offered. */
export const SMB2_DIALECTS: ReadonlyArray<number> = [0x0202, 0x0210, 0x0300, 0x0302]

/** The wildcard revision answered to an SMB1 negotiate that offers "SMB 2.???" (MS-SMB2 2.2.4). */
export const SMB2_WILDCARD = 0x02ff

export type Smb2Request =
  | {
    readonly type: "smb2"
    readonly command: number
    readonly messageId: bigint
    readonly sessionId: bigint
    /** NEGOTIATE only: the dialects the client offers. */
    readonly dialects: ReadonlyArray<number>
  }
  | {
    /** An SMB1 NEGOTIATE: the dialect strings it offers ("NT LM 0.12", "SMB 2.002", "SMB 2.???"). */
    readonly type: "smb1-negotiate"
    readonly dialects: ReadonlyArray<string>
  }

/** Why a stream is not SMB2; the detail says what was found. */
export interface Smb2DecodeError {
  readonly code: "bad-session-header" | "too-large" | "not-smb2" | "truncated"
  readonly detail: string
}

const SESSION_HEADER_BYTES = 4
const SMB2_HEADER_BYTES = 64
const SMB2_MAGIC = 0x424d53fe // "\xfeSMB" little-endian
const SMB1_MAGIC = 0x424d53ff // "\xffSMB" little-endian
const SMB1_NEGOTIATE = 0x72

const decodeSmb1Negotiate = (message: Buffer): { readonly frame: Smb2Request } | { readonly error: Smb2DecodeError } => {
  // SMB1 header (32 bytes), WordCount (1, 0 for NEGOTIATE), ByteCount (2), then 0x02 "dialect\0" ...
  if (message.length < 35 || message[4] !== SMB1_NEGOTIATE) {
    return { error: { code: "not-smb2", detail: `an SMB1 message that is not a NEGOTIATE (command 0x${(message[4] ?? 0).toString(16)}); the analyzer speaks SMB2 only` } }
  }
  const byteCount = message.readUInt16LE(33)
  const dialects = message.subarray(35, 35 + byteCount).toString("latin1").split("\x02").map((d) => d.replace(/\0+$/u, "")).filter((d) => d !== "")
  return { frame: { type: "smb1-negotiate", dialects } }
}

const decodeSmb2 = (message: Buffer): { readonly frame: Smb2Request } | { readonly error: Smb2DecodeError } => {
  if (message.length < SMB2_HEADER_BYTES) return { error: { code: "truncated", detail: `an SMB2 message of ${message.length} bytes, shorter than its 64-byte header` } }
  const command = message.readUInt16LE(12)
  const dialects: Array<number> = []
  if (command === 0) {
    // NEGOTIATE request: StructureSize 36, DialectCount, ..., the dialects at byte 36 of the body.
    const count = message.length >= SMB2_HEADER_BYTES + 4 ? message.readUInt16LE(SMB2_HEADER_BYTES + 2) : 0
    const first = SMB2_HEADER_BYTES + 36
    if (count === 0 || message.length < first + 2 * count) {
      return { error: { code: "truncated", detail: `a NEGOTIATE request whose dialect list (${count} dialects) is missing or cut short` } }
    }
    for (let i = 0; i < count; i++) dialects.push(message.readUInt16LE(first + 2 * i))
  }
  return { frame: { type: "smb2", command, messageId: message.readBigUInt64LE(24), sessionId: message.readBigUInt64LE(40), dialects } }
}

const smb2Format: FrameFormat<Smb2Request, Smb2DecodeError> = {
  headerBytes: SESSION_HEADER_BYTES,
  checkHeader: (buffer, pos, available) =>
    available > 0 && buffer[pos] !== 0
      ? { code: "bad-session-header", detail: `first byte 0x${(buffer[pos] ?? 0).toString(16).padStart(2, "0")} is not a direct-TCP session message (0x00)` }
      : available >= SESSION_HEADER_BYTES && buffer.readUIntBE(pos + 1, 3) > SMB2_MAX_REQUEST_BYTES
      ? { code: "too-large", detail: `a message of ${buffer.readUIntBE(pos + 1, 3)} bytes, more than the ${SMB2_MAX_REQUEST_BYTES} a negotiate or session setup needs` }
      : null,
  frameBytes: (buffer, pos) => SESSION_HEADER_BYTES + buffer.readUIntBE(pos + 1, 3),
  decode: (buffer, pos, frameBytes) => {
    const message = buffer.subarray(pos + SESSION_HEADER_BYTES, pos + frameBytes)
    const magic = message.length >= 4 ? message.readUInt32LE(0) : 0
    if (magic === SMB2_MAGIC) return decodeSmb2(message)
    if (magic === SMB1_MAGIC) return decodeSmb1Negotiate(message)
    return { error: { code: "not-smb2", detail: `the message starts ${hexBytes(message, 0, Math.min(4, message.length))}, not fe 53 4d 42 (SMB2)` } }
  }
}

/** Streaming decoder of what a client sends on TCP/445. */
export class Smb2Decoder extends FrameDecoder<Smb2Request, Smb2DecodeError> {
  constructor() {
    super(smb2Format)
  }
}

/** The dialect to answer a client's offer with: the highest both speak, or null. */
export const chooseDialect = (request: Smb2Request): number | null => {
  if (request.type === "smb1-negotiate") {
    return request.dialects.includes("SMB 2.???") ? SMB2_WILDCARD : request.dialects.includes("SMB 2.002") ? 0x0202 : null
  }
  const common = SMB2_DIALECTS.filter((dialect) => request.dialects.includes(dialect))
  return common.at(-1) ?? null
}

/** A SPNEGO NegTokenInit (RFC 4178) offering NTLMSSP only, as Windows servers put in their NEGOTIATE response. */
const SPNEGO_NTLMSSP = Buffer.from("601c06062b0601050502a0123010a00e300c060a2b06010401823702020a", "hex")

/** 100 ns intervals since 1601-01-01 (a Windows FILETIME) of a Unix time in ms. */
const fileTime = (ms: number): bigint => (BigInt(Math.round(ms)) + 11_644_473_600_000n) * 10_000n

const frame = (message: Buffer): Buffer => {
  const session = Buffer.alloc(SESSION_HEADER_BYTES)
  session.writeUIntBE(message.length, 1, 3)
  return Buffer.concat([session, message])
}

const header = (command: number, status: number, messageId: bigint, sessionId: bigint): Buffer => {
  const h = Buffer.alloc(SMB2_HEADER_BYTES)
  h.writeUInt32LE(SMB2_MAGIC, 0)
  h.writeUInt16LE(SMB2_HEADER_BYTES, 4)
  h.writeUInt16LE(1, 6) // CreditCharge
  h.writeUInt32LE(status, 8)
  h.writeUInt16LE(command, 12)
  h.writeUInt16LE(1, 14) // CreditResponse
  h.writeUInt32LE(0x00000001, 16) // SMB2_FLAGS_SERVER_TO_REDIR
  h.writeBigUInt64LE(messageId, 24)
  h.writeBigUInt64LE(sessionId, 40)
  return h
}

export interface NegotiateAnswer {
  readonly dialect: number
  readonly messageId: bigint
  /** 16 bytes that stay the same for one server. */
  readonly serverGuid: Buffer
  /** Unix ms: the server's clock now, and when it started. */
  readonly now: number
  readonly startedAt: number
}

/** The NEGOTIATE response (MS-SMB2 2.2.4): signing enabled, not required; SPNEGO with NTLMSSP. */
export const encodeNegotiateResponse = (answer: NegotiateAnswer): Buffer => {
  const body = Buffer.alloc(64)
  body.writeUInt16LE(65, 0) // StructureSize
  body.writeUInt16LE(0x0001, 2) // SecurityMode: signing enabled
  body.writeUInt16LE(answer.dialect, 4)
  answer.serverGuid.copy(body, 8, 0, 16)
  body.writeUInt32LE(0, 24) // Capabilities
  body.writeUInt32LE(65_536, 28) // MaxTransactSize
  body.writeUInt32LE(65_536, 32) // MaxReadSize
  body.writeUInt32LE(65_536, 36) // MaxWriteSize
  body.writeBigUInt64LE(fileTime(answer.now), 40)
  body.writeBigUInt64LE(fileTime(answer.startedAt), 48)
  body.writeUInt16LE(SMB2_HEADER_BYTES + 64, 56) // SecurityBufferOffset
  body.writeUInt16LE(SPNEGO_NTLMSSP.length, 58)
  return frame(Buffer.concat([header(0, NT_STATUS.SUCCESS, answer.messageId, 0n), body, SPNEGO_NTLMSSP]))
}

/** An error response (MS-SMB2 2.2.2) to `command` with `status`. */
export const encodeErrorResponse = (command: number, status: number, messageId: bigint, sessionId: bigint): Buffer => {
  const body = Buffer.alloc(9)
  body.writeUInt16LE(9, 0) // StructureSize
  return frame(Buffer.concat([header(command, status, messageId, sessionId), body]))
}

/** "3.0.2" for 0x0302, "2.???" for the wildcard. */
export const dialectName = (dialect: number): string =>
  dialect === SMB2_WILDCARD ? "2.???" : `${dialect >> 8}.${(dialect >> 4) & 0xf}.${dialect & 0xf}`
