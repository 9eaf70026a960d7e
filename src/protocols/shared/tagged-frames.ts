/**
 * The header fazlab's own binary protocols share (OFTP, HA): 4 magic bytes, a version byte, a
 * frame type byte, then a big-endian body length at a protocol's own offset. `taggedFrameFormat`
 * turns a protocol's constants and body decoder into the `FrameFormat` the streaming decoder
 * runs, with the header errors worded alike: checked byte by byte, so a partial header is
 * rejected as soon as a wrong byte arrives and the detail never depends on chunking.
 */
import { type FrameFormat, hexBytes } from "./frame-decoder.ts"

export interface HeaderError {
  readonly code: "bad-magic" | "bad-version" | "unknown-type" | "frame-too-large"
  readonly detail: string
}

export interface TaggedFrames<T extends string, F, E> {
  readonly magic: Buffer
  /** The rule a bad magic breaks, e.g. `a frame must start with "OFTP" (4f 46 54 50)`. */
  readonly magicRule: string
  readonly version: number
  /** The detail for a frame of another version. */
  readonly badVersion: (got: number) => string
  /** Frame type names and their wire bytes. */
  readonly types: Readonly<Record<T, number>>
  readonly headerBytes: number
  /** Where the 4-byte body length sits in the header. */
  readonly lengthAt: number
  /** Decodes a frame body of type `type`. */
  readonly decodeBody: (type: T, body: Buffer) => { readonly frame: F } | { readonly error: E }
}

/** One line: schema messages span lines ("Expected ...\n  at [\"serial\"]"). */
export const oneLine = (message: string): string => message.replace(/\s*\n\s*/g, " ")

export const taggedFrameFormat = <T extends string, F, E>(frames: TaggedFrames<T, F, E>, maxFrameBytes: number): FrameFormat<F, E | HeaderError> => {
  const { magic, headerBytes, lengthAt } = frames
  const typeByByte: Array<T | undefined> = []
  for (const [name, byte] of Object.entries(frames.types) as Array<[T, number]>) typeByByte[byte] = name
  const unknownType = (buffer: Buffer, pos: number): HeaderError => ({
    code: "unknown-type",
    detail: `frame type 0x${hexBytes(buffer, pos + 5, pos + 6)} is not one of 0x01-0x${(typeByByte.length - 1).toString(16).padStart(2, "0")}`
  })
  return {
    headerBytes,
    checkHeader: (buffer, pos, available) => {
      const magicBytes = Math.min(available, magic.length)
      for (let i = 0; i < magicBytes; i++) {
        if (buffer[pos + i] !== magic[i]) {
          // Up to the first wrong byte only: the detail must not depend on how the stream was chunked.
          return { code: "bad-magic", detail: `${frames.magicRule}, got ${hexBytes(buffer, pos, pos + i + 1)}` }
        }
      }
      const version = buffer[pos + 4] ?? 0
      if (available > 4 && version !== frames.version) return { code: "bad-version", detail: frames.badVersion(version) }
      if (available > 5 && typeByByte[buffer[pos + 5] ?? 0] === undefined) return unknownType(buffer, pos)
      if (available >= headerBytes) {
        const length = buffer.readUInt32BE(pos + lengthAt)
        if (length > maxFrameBytes) {
          return { code: "frame-too-large", detail: `the frame declares a ${length}-byte body, more than max-frame-bytes (${maxFrameBytes})` }
        }
      }
      return null
    },
    frameBytes: (buffer, pos) => headerBytes + buffer.readUInt32BE(pos + lengthAt),
    decode: (buffer, pos, frameBytes) => {
      const type = typeByByte[buffer[pos + 5] ?? 0]
      if (type === undefined) return { error: unknownType(buffer, pos) }
      return frames.decodeBody(type, buffer.subarray(pos + headerBytes, pos + frameBytes))
    }
  }
}
