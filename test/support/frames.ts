/**
 * Helpers for the frame decoder tests: cut a stream into chunks, push chunks into a decoder, and
 * the cases every protocol on the shared tagged header (`src/protocols/shared/tagged-frames.ts`:
 * OFTP, HA) must pass, table-driven by the protocol's own constants and wording: round trips
 * whatever the chunking, and the four header errors.
 */
import { expect, it } from "vitest"

export interface Decoded<F, E> {
  readonly frames: F[]
  readonly error: E | null
}

/** A streaming decoder: frames (and at most one error) per pushed chunk. */
export interface ChunkDecoder<F, E> {
  push(chunk: Buffer): { readonly frames: ReadonlyArray<F>; readonly error?: E }
}

/** Pushes every chunk; checks the decoder stays dead after its first error. */
export const decodeChunks = <F, E>(decoder: ChunkDecoder<F, E>, chunks: ReadonlyArray<Buffer>): Decoded<F, E> => {
  const frames: F[] = []
  let error: E | null = null
  for (const chunk of chunks) {
    const result = decoder.push(chunk)
    if (error !== null) {
      expect(result).toEqual({ frames: [] })
      continue
    }
    frames.push(...result.frames)
    if (result.error !== undefined) error = result.error
  }
  return { frames, error }
}

/** Cuts `stream` at the given offsets (sorted, deduplicated, clamped). */
export const cut = (stream: Buffer, offsets: ReadonlyArray<number>): Buffer[] => {
  const points = [...new Set(offsets.map((o) => Math.min(o, stream.length)))].sort((a, b) => a - b)
  const chunks: Buffer[] = []
  let last = 0
  for (const point of points) {
    chunks.push(stream.subarray(last, point))
    last = point
  }
  chunks.push(stream.subarray(last))
  return chunks
}

export interface RoundTrips<F> {
  /** Every frame shape worth a name, in the order they go into one stream. */
  readonly examples: ReadonlyArray<F>
  /** The test name of an example. */
  readonly name: (frame: F) => string
  readonly encode: (frame: F) => Buffer
  readonly decode: (chunks: ReadonlyArray<Buffer>) => Decoded<F, unknown>
}

/** Each example decodes to itself, alone and in one stream split at every point or fed a byte at a time. */
export const roundTripCases = <F>({ examples, name, encode, decode }: RoundTrips<F>): void => {
  it.each(examples.map((frame) => [name(frame), frame] as const))("%s", (_, frame) => {
    expect(decode([encode(frame)])).toEqual({ frames: [frame], error: null })
  })

  const stream = Buffer.concat(examples.map(encode))

  it("decodes the same frames whatever the split point", () => {
    for (let at = 0; at <= stream.length; at++) {
      expect(decode([stream.subarray(0, at), stream.subarray(at)])).toEqual({ frames: examples, error: null })
    }
  })

  it("decodes the same frames fed one byte at a time", () => {
    const bytes = Array.from({ length: stream.length }, (_, i) => stream.subarray(i, i + 1))
    expect(decode(bytes)).toEqual({ frames: examples, error: null })
  })
}

export interface TaggedHeader {
  /** The 4 magic bytes, as text ("OFTP", "FZHA"). */
  readonly magic: string
  /** The protocol's bad-magic sentence, up to ", got ...". */
  readonly magicRule: string
  /** The protocol's bad-version detail for a version 2 frame. */
  readonly badVersion: string
  readonly headerBytes: number
  /** The test file's header builder: the given type, version and length, then `body`. */
  readonly raw: (type: number, body: string, options?: { readonly version?: number; readonly length?: number }) => Buffer
  readonly decode: (chunks: ReadonlyArray<Buffer>, maxFrameBytes: number) => Decoded<unknown, { readonly code: string; readonly detail: string }>
  /** A valid whole frame with a body of at most 1 KiB. */
  readonly sample: Buffer
}

/** The header errors, checked byte by byte: each as soon as its byte arrives, whatever the chunking. */
export const headerErrorCases = ({ magic, magicRule, badVersion, headerBytes, raw, decode, sample }: TaggedHeader): void => {
  const LIMIT = 1024
  const errorOf = (bytes: Buffer, maxFrameBytes = LIMIT) => decode([bytes], maxFrameBytes).error
  const hex = (bytes: Buffer): string => Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join(" ")

  it("waits while the magic is right so far", () => {
    for (let length = 1; length < magic.length; length++) expect(errorOf(Buffer.from(magic.slice(0, length), "latin1"))).toBeNull()
  })

  it("bad-magic as soon as a wrong byte arrives (a TLS ClientHello, plain syslog, a wrong third byte)", () => {
    expect(errorOf(Buffer.from([0x16, 0x03, 0x01]))).toEqual({ code: "bad-magic", detail: `${magicRule}, got 16` })
    expect(errorOf(Buffer.from("<189>date=2026-11-27", "latin1"))).toEqual({ code: "bad-magic", detail: `${magicRule}, got 3c` })
    const wrongThird = Buffer.from(`${magic.slice(0, 2)}X`, "latin1")
    expect(errorOf(wrongThird)).toEqual({ code: "bad-magic", detail: `${magicRule}, got ${hex(wrongThird)}` })
  })

  it("bad-version from the version byte, before the rest of the header", () => {
    const expected = { code: "bad-version", detail: badVersion }
    expect(errorOf(raw(0x01, "", { version: 2 }).subarray(0, 5))).toEqual(expected)
    expect(errorOf(raw(0x01, "{}", { version: 2 }))).toEqual(expected)
  })

  it.each([0x00, 0x0a, 0xff])("unknown-type from the type byte (type byte %i)", (type) => {
    const expected = { code: "unknown-type", detail: `frame type 0x${type.toString(16).padStart(2, "0")} is not one of 0x01-0x09` }
    expect(errorOf(raw(type, "").subarray(0, 6))).toEqual(expected)
    expect(errorOf(raw(type, "{}"))).toEqual(expected)
  })

  it("frame-too-large from the header alone, before the body arrives", () => {
    expect(errorOf(raw(0x01, "", { length: LIMIT + 1 }))).toEqual({
      code: "frame-too-large",
      detail: "the frame declares a 1025-byte body, more than max-frame-bytes (1024)"
    })
    expect(errorOf(raw(0x01, "", { length: LIMIT }))).toBeNull()
    const body = sample.length - headerBytes
    expect(decode([sample], body)).toMatchObject({ frames: [expect.anything()], error: null })
    expect(errorOf(sample, body - 1)?.code).toBe("frame-too-large")
  })

  it("returns the frames before the error, then stays dead", () => {
    const [frame] = decode([sample], LIMIT).frames
    const outcome = decode([Buffer.concat([sample, Buffer.from("garbage")]), sample], LIMIT)
    expect(outcome.frames).toEqual([frame])
    expect(outcome.error?.code).toBe("bad-magic")
  })
}
