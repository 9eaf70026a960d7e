/**
 * NTP packets (RFC 5905, the 48-byte header; no extension fields, no authentication): what an
 * NTP client sends (mode 3) and a server answers (mode 4), and the client's offset and delay.
 *
 * Timestamps are NTP's 64-bit fixed point (seconds since 1900 and a 32-bit fraction); here they
 * travel as milliseconds since the Unix epoch, which is all the lab's clocks resolve.
 */

/** Seconds from 1900-01-01 (NTP's era 0) to 1970-01-01. */
const NTP_UNIX_OFFSET = 2_208_988_800

export const NTP_PACKET_BYTES = 48

export interface NtpPacket {
  /** 0: no warning, 3: unsynchronized. */
  readonly leap: number
  readonly version: number
  /** 3: client, 4: server. */
  readonly mode: number
  /** 1: primary (a reference clock), 2-15: secondary, 16: unsynchronized; 0 in a client's request. */
  readonly stratum: number
  readonly poll: number
  readonly precision: number
  /** Four ASCII characters for stratum 1 ("LOCL", "GPS"), else the server's reference's address. */
  readonly referenceId: string
  /** Milliseconds since the epoch (0: unset). */
  readonly reference: number
  readonly origin: number
  readonly receive: number
  readonly transmit: number
}

const writeTimestamp = (buffer: Buffer, offset: number, ms: number): void => {
  if (ms === 0) return
  const seconds = Math.floor(ms / 1000)
  buffer.writeUInt32BE((seconds + NTP_UNIX_OFFSET) >>> 0, offset)
  buffer.writeUInt32BE(Math.floor(((ms - seconds * 1000) / 1000) * 0x1_0000_0000) >>> 0, offset + 4)
}

const readTimestamp = (buffer: Buffer, offset: number): number => {
  const seconds = buffer.readUInt32BE(offset)
  const fraction = buffer.readUInt32BE(offset + 4)
  if (seconds === 0 && fraction === 0) return 0
  return (seconds - NTP_UNIX_OFFSET) * 1000 + (fraction / 0x1_0000_0000) * 1000
}

export const encodeNtp = (packet: NtpPacket): Buffer => {
  const buffer = Buffer.alloc(NTP_PACKET_BYTES)
  buffer.writeUInt8(((packet.leap & 0x3) << 6) | ((packet.version & 0x7) << 3) | (packet.mode & 0x7), 0)
  buffer.writeUInt8(packet.stratum, 1)
  buffer.writeInt8(packet.poll, 2)
  buffer.writeInt8(packet.precision, 3)
  // Root delay and dispersion stay 0: the lab's server is its own reference.
  buffer.write(packet.referenceId.padEnd(4, "\0").slice(0, 4), 12, "latin1")
  writeTimestamp(buffer, 16, packet.reference)
  // The origin timestamp is copied raw by servers (see `answerNtp`); here it is written as a time.
  writeTimestamp(buffer, 24, packet.origin)
  writeTimestamp(buffer, 32, packet.receive)
  writeTimestamp(buffer, 40, packet.transmit)
  return buffer
}

/** A packet, or why it is not one. */
export const decodeNtp = (bytes: Buffer): NtpPacket | string => {
  if (bytes.length < NTP_PACKET_BYTES) return `${bytes.length} bytes, shorter than an NTP header (48)`
  const first = bytes.readUInt8(0)
  return {
    leap: first >> 6,
    version: (first >> 3) & 0x7,
    mode: first & 0x7,
    stratum: bytes.readUInt8(1),
    poll: bytes.readInt8(2),
    precision: bytes.readInt8(3),
    referenceId: bytes.subarray(12, 16).toString("latin1").replace(/\0+$/u, ""),
    reference: readTimestamp(bytes, 16),
    origin: readTimestamp(bytes, 24),
    receive: readTimestamp(bytes, 32),
    transmit: readTimestamp(bytes, 40)
  }
}

/**
 * A server's answer (mode 4) to a client's request: the request's transmit timestamp, as raw
 * bytes, becomes the origin (RFC 5905 §8), so the client matches the answer to its request.
 */
export const answerNtp = (request: Buffer, server: { readonly stratum: number; readonly referenceId: string; readonly receivedAt: number; readonly now: number }): Buffer => {
  const version = (request.readUInt8(0) >> 3) & 0x7
  const response = encodeNtp({
    leap: 0,
    version: version >= 1 && version <= 4 ? version : 4,
    mode: 4,
    stratum: server.stratum,
    poll: request.readInt8(2),
    precision: -20,
    referenceId: server.referenceId,
    reference: server.now,
    origin: 0,
    receive: server.receivedAt,
    transmit: server.now
  })
  request.copy(response, 24, 40, 48)
  return response
}

/** RFC 5905 §8: offset ((T2 - T1) + (T3 - T4)) / 2 and round-trip delay (T4 - T1) - (T3 - T2), in ms. */
export const offsetAndDelay = (t1: number, t2: number, t3: number, t4: number): { readonly offset: number; readonly delay: number } => ({
  offset: ((t2 - t1) + (t3 - t4)) / 2,
  delay: (t4 - t1) - (t3 - t2)
})
