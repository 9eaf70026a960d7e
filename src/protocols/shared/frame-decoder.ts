/**
 * The streaming half of every length-prefixed binary protocol fazlab speaks (OFTP, HA, FGFM):
 * bytes arrive in chunks of any size, frames come out whole, the first bad header or body ends
 * the stream for good. Each protocol says only what its header and body look like.
 *
 * Decoded frames own their data: nothing refers to the pushed chunks once `push` returns. A
 * frame body still incomplete is only remembered, and copied once when it is complete.
 */
/** Bytes as "4f 46 54 50", for error details. */
export const hexBytes = (buffer: Buffer, start: number, end: number): string =>
  Array.from(buffer.subarray(start, end), (byte) => byte.toString(16).padStart(2, "0")).join(" ")

export interface FrameFormat<F, E> {
  readonly headerBytes: number
  /**
   * Checks the header bytes available at `pos` (possibly fewer than `headerBytes`: checks what
   * is there, so the error for a stream does not depend on how it was chunked); null when fine.
   */
  checkHeader(buffer: Buffer, pos: number, available: number): E | null
  /** The whole frame's size, header included, once its header is complete at `pos`. */
  frameBytes(buffer: Buffer, pos: number): number
  /** Decodes the complete frame at `pos`. */
  decode(buffer: Buffer, pos: number, frameBytes: number): { readonly frame: F } | { readonly error: E }
}

export interface FrameDecodeResult<F, E> {
  readonly frames: F[]
  readonly error?: E
}

export class FrameDecoder<F, E> {
  readonly #format: FrameFormat<F, E>
  #dead = false
  /** Bytes received but not yet part of a decoded frame (they start at a frame boundary). */
  #pending: Buffer[] = []
  #pendingBytes = 0
  /** Size of the frame being read once its header checked out; 0 while the header is incomplete. */
  #need = 0

  constructor(format: FrameFormat<F, E>) {
    this.#format = format
  }

  push(chunk: Buffer): FrameDecodeResult<F, E> {
    if (this.#dead || chunk.length === 0) return { frames: [] }
    if (this.#need > 0 && this.#pendingBytes + chunk.length < this.#need) {
      this.#keep(chunk)
      return { frames: [] }
    }
    const format = this.#format
    const buffer = this.#withPending(chunk)
    const frames: F[] = []
    const total = buffer.length
    let pos = 0
    this.#need = 0
    while (pos < total) {
      const available = total - pos
      const headerError = format.checkHeader(buffer, pos, available)
      if (headerError !== null) return this.#fail(frames, headerError)
      if (available < format.headerBytes) {
        this.#keep(Buffer.from(buffer.subarray(pos)))
        break
      }
      const frameBytes = format.frameBytes(buffer, pos)
      if (available < frameBytes) {
        this.#keep(Buffer.from(buffer.subarray(pos)))
        this.#need = frameBytes
        break
      }
      const decoded = format.decode(buffer, pos, frameBytes)
      if ("error" in decoded) return this.#fail(frames, decoded.error)
      frames.push(decoded.frame)
      pos += frameBytes
    }
    return { frames }
  }

  #fail(frames: F[], error: E): FrameDecodeResult<F, E> {
    this.#dead = true
    this.#pending = []
    this.#pendingBytes = 0
    return { frames, error }
  }

  #keep(buffer: Buffer): void {
    this.#pending.push(buffer)
    this.#pendingBytes += buffer.length
  }

  /** Joins the buffered bytes with `chunk` (a copy only when something was buffered). */
  #withPending(chunk: Buffer): Buffer {
    if (this.#pendingBytes === 0) return chunk
    this.#keep(chunk)
    const joined = Buffer.concat(this.#pending, this.#pendingBytes)
    this.#pending = []
    this.#pendingBytes = 0
    return joined
  }
}
