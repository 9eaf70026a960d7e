/**
 * RFC 6587 syslog-over-TCP framing: a streaming, per-connection deframer and the two encoders.
 *
 * The framing of a connection is decided by its first byte, as rsyslog does: a digit means octet
 * counting (`MSG-LEN SP SYSLOG-MSG`, what FortiOS `mode reliable` sends), `<` means
 * non-transparent framing (one message per line; LF, CRLF and NUL all end a frame). Anything
 * else means the stream is not syslog and framing is lost.
 *
 * Decisions worth knowing:
 * - Frames are zero-copy views (`subarray`) into the pushed chunks where possible: callers that
 *   keep a frame beyond the current tick must not reuse the chunk's memory.
 * - In line mode empty lines are skipped, a trailing `\r` is stripped, and `maxFrameBytes`
 *   limits the bytes before the trailer (the `\r` included).
 * - `end()` in line mode delivers a non-empty unterminated last line as a frame without error
 *   (rsyslog does the same); in octet-counting mode a partial frame is reported "truncated".
 * - Fatal errors ("frame-too-large", "bad-octet-count", "binary-garbage") stop the deframer:
 *   later `push()` and `end()` return no frames. The error reported for a byte stream does not
 *   depend on how it was chunked.
 */
import type { MalformedReason } from "../../events/events.ts"

export interface DeframeError {
  readonly reason: MalformedReason
  readonly detail: string
  readonly fatal: boolean
}

export interface DeframeResult {
  readonly frames: Buffer[]
  readonly error?: DeframeError
}

export type FramingMode = "unknown" | "octet-counting" | "non-transparent"

/** MSG-LEN is at most 10 digits: anything longer cannot be a sane frame. */
const MAX_COUNT_DIGITS = 10
const SP = 0x20
const LF = 0x0a
const CR = 0x0d
const NUL = 0x00
const LT = 0x3c
const DIGIT_0 = 0x30
const DIGIT_9 = 0x39

const describeByte = (byte: number): string =>
  byte >= 0x21 && byte <= 0x7e ? `"${String.fromCharCode(byte)}"` : `0x${byte.toString(16).padStart(2, "0")}`

export class SyslogDeframer {
  readonly #maxFrameBytes: number
  #mode: FramingMode = "unknown"
  #stopped = false
  /** Bytes received but not yet part of a delivered frame. */
  #pending: Buffer[] = []
  #pendingBytes = 0
  /** Octet counting: the declared length of the frame being read, or -1 while reading MSG-LEN. */
  #need = -1

  constructor(options: { readonly maxFrameBytes: number }) {
    this.#maxFrameBytes = options.maxFrameBytes
  }

  get mode(): FramingMode {
    return this.#mode
  }

  push(chunk: Buffer): DeframeResult {
    if (this.#stopped || chunk.length === 0) return { frames: [] }
    if (this.#mode === "unknown") {
      const first = chunk[0] ?? 0
      if (first >= DIGIT_0 && first <= DIGIT_9) {
        this.#mode = "octet-counting"
      } else if (first === LT) {
        this.#mode = "non-transparent"
      } else {
        return this.#fail([], "binary-garbage", `the stream starts with byte ${describeByte(first)}, expected a digit (octet counting) or "<" (a syslog PRI)`)
      }
    }
    return this.#mode === "octet-counting" ? this.#pushCounted(chunk) : this.#pushLines(chunk)
  }

  end(): DeframeResult {
    if (this.#stopped) return { frames: [] }
    this.#stopped = true
    const pendingBytes = this.#pendingBytes
    const rest = this.#takePending()
    if (this.#mode === "non-transparent") {
      const frame = stripCr(rest, 0, rest.length)
      return { frames: frame.length > 0 ? [frame] : [] }
    }
    if (pendingBytes === 0 && this.#need < 0) return { frames: [] }
    const detail = this.#need < 0
      ? `the connection closed in the middle of an octet count (${pendingBytes} bytes buffered)`
      : `the connection closed after ${pendingBytes} of ${this.#need} declared bytes`
    return { frames: [], error: { reason: "truncated", detail, fatal: false } }
  }

  #fail(frames: Buffer[], reason: MalformedReason, detail: string): DeframeResult {
    this.#stopped = true
    this.#pending = []
    this.#pendingBytes = 0
    return { frames, error: { reason, detail, fatal: true } }
  }

  #keep(buffer: Buffer): void {
    this.#pending.push(buffer)
    this.#pendingBytes += buffer.length
  }

  #takePending(): Buffer {
    const pending = this.#pending
    const joined = pending.length === 1 ? (pending[0] ?? Buffer.alloc(0)) : Buffer.concat(pending, this.#pendingBytes)
    this.#pending = []
    this.#pendingBytes = 0
    return joined
  }

  /** Joins the buffered bytes with `chunk` (a copy only when something was buffered). */
  #withPending(chunk: Buffer): Buffer {
    if (this.#pendingBytes === 0) return chunk
    this.#keep(chunk)
    return this.#takePending()
  }

  #pushCounted(chunk: Buffer): DeframeResult {
    // A frame body still incomplete: only remember the chunk, copy once when it is complete.
    if (this.#need >= 0 && this.#pendingBytes + chunk.length < this.#need) {
      this.#keep(chunk)
      return { frames: [] }
    }
    const buffer = this.#withPending(chunk)
    const frames: Buffer[] = []
    const length = buffer.length
    let pos = 0
    while (pos < length) {
      if (this.#need < 0) {
        const start = pos
        let count = 0
        let digits = 0
        let byte = buffer[pos] ?? 0
        while (byte >= DIGIT_0 && byte <= DIGIT_9) {
          if (digits === 0 && byte === DIGIT_0) {
            return this.#fail(frames, "bad-octet-count", "the octet count starts with a leading zero")
          }
          digits++
          if (digits > MAX_COUNT_DIGITS) {
            return this.#fail(frames, "bad-octet-count", `the octet count has more than ${MAX_COUNT_DIGITS} digits`)
          }
          count = count * 10 + (byte - DIGIT_0)
          pos++
          if (pos === length) break
          byte = buffer[pos] ?? 0
        }
        if (pos === length) {
          this.#keep(buffer.subarray(start))
          break
        }
        if (digits === 0) {
          return this.#fail(frames, "bad-octet-count", `expected an octet count, got byte ${describeByte(byte)}`)
        }
        if (byte !== SP) {
          return this.#fail(frames, "bad-octet-count", `the octet count ${count} is followed by byte ${describeByte(byte)} instead of a space`)
        }
        if (count > this.#maxFrameBytes) {
          return this.#fail(frames, "frame-too-large", `the frame declares ${count} bytes, more than the limit of ${this.#maxFrameBytes}`)
        }
        pos++
        this.#need = count
      }
      const need = this.#need
      if (length - pos < need) {
        this.#keep(buffer.subarray(pos))
        break
      }
      frames.push(buffer.subarray(pos, pos + need))
      pos += need
      this.#need = -1
    }
    return { frames }
  }

  #pushLines(chunk: Buffer): DeframeResult {
    const max = this.#maxFrameBytes
    const carried = this.#pendingBytes
    if (carried > 0 && chunk.indexOf(LF) < 0 && chunk.indexOf(NUL) < 0) {
      this.#keep(chunk)
      return this.#pendingBytes > max ? this.#lineTooLong([], this.#pendingBytes) : { frames: [] }
    }
    const buffer = this.#withPending(chunk)
    const frames: Buffer[] = []
    const length = buffer.length
    // Positions of the next LF and NUL, each found once and reused: linear in the chunk size.
    let nextLf = buffer.indexOf(LF, carried)
    let nextNul = buffer.indexOf(NUL, carried)
    let pos = 0
    while (pos < length) {
      if (nextLf >= 0 && nextLf < pos) nextLf = buffer.indexOf(LF, pos)
      if (nextNul >= 0 && nextNul < pos) nextNul = buffer.indexOf(NUL, pos)
      const end = nextLf < 0 ? nextNul : nextNul < 0 ? nextLf : Math.min(nextLf, nextNul)
      if (end < 0) {
        const rest = length - pos
        if (rest > max) return this.#lineTooLong(frames, rest)
        this.#keep(buffer.subarray(pos))
        break
      }
      if (end - pos > max) return this.#lineTooLong(frames, end - pos)
      const frame = stripCr(buffer, pos, end)
      if (frame.length > 0) frames.push(frame)
      pos = end + 1
    }
    return { frames }
  }

  #lineTooLong(frames: Buffer[], bytes: number): DeframeResult {
    return this.#fail(frames, "frame-too-large", `a line reached ${bytes} bytes without a line feed, more than the limit of ${this.#maxFrameBytes}`)
  }
}

const stripCr = (buffer: Buffer, start: number, end: number): Buffer =>
  buffer.subarray(start, end > start && buffer[end - 1] === CR ? end - 1 : end)

/** `MSG-LEN SP MSG`: RFC 6587 octet-counted framing, what FortiOS `mode reliable` sends. */
export function encodeOctetCounted(msg: Buffer): Buffer {
  const prefix = `${msg.length} `
  const out = Buffer.allocUnsafe(prefix.length + msg.length)
  out.write(prefix, 0, "latin1")
  msg.copy(out, prefix.length)
  return out
}

/** `MSG LF`: RFC 6587 non-transparent framing. The message must not itself contain a LF. */
export function encodeLf(msg: Buffer): Buffer {
  const out = Buffer.allocUnsafe(msg.length + 1)
  msg.copy(out, 0)
  out[msg.length] = LF
  return out
}
