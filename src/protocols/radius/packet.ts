/**
 * RADIUS packets (RFC 2865) as fazlab's RADIUS server and the analyzer's RADIUS client use them:
 * the header and attributes, the hidden User-Password (§5.2), CHAP (§5.3, RFC 1994's MD5
 * response), the Response Authenticator (§3) and the Message-Authenticator (RFC 3579 §3.2), and
 * Fortinet's vendor-specific attributes (vendor 12356: `Fortinet-Group-Name` is 1).
 *
 * Hand-written on node:crypto's MD5 and HMAC-MD5, not a library: the one RADIUS library on npm
 * (`radius`) reads its attribute dictionaries at run time from files beside its own sources,
 * which fazlab's bundled command (esbuild, dist/bundle) does not carry; what fazlab needs of
 * RADIUS is this file's fixed header, type-length-value attributes and four hashes.
 */
import * as crypto from "node:crypto"

export const CODE = { accessRequest: 1, accessAccept: 2, accessReject: 3 } as const

export const ATTRIBUTE = {
  userName: 1,
  userPassword: 2,
  chapPassword: 3,
  nasIpAddress: 4,
  replyMessage: 18,
  vendorSpecific: 26,
  nasIdentifier: 32,
  chapChallenge: 60,
  messageAuthenticator: 80
} as const

/** Fortinet's SMI private enterprise number, and its `Fortinet-Group-Name` attribute. */
export const FORTINET_VENDOR = 12356
export const FORTINET_GROUP_NAME = 1

export interface RadiusAttribute {
  readonly type: number
  readonly value: Buffer
}

export interface RadiusPacket {
  readonly code: number
  readonly identifier: number
  readonly authenticator: Buffer
  readonly attributes: ReadonlyArray<RadiusAttribute>
}

const HEADER = 20
const MAX_PACKET = 4096

/** A packet from a datagram, or a sentence saying why it is not one (RFC 2865 §3). */
export const decodePacket = (datagram: Buffer): RadiusPacket | string => {
  if (datagram.length < HEADER) return `a ${datagram.length}-byte datagram, shorter than a RADIUS header (20 bytes)`
  const length = datagram.readUInt16BE(2)
  if (length < HEADER || length > MAX_PACKET || length > datagram.length) return `a RADIUS packet whose length field (${length}) does not fit the ${datagram.length}-byte datagram`
  const attributes: Array<RadiusAttribute> = []
  for (let at = HEADER; at < length;) {
    const type = datagram[at] ?? 0
    const size = datagram[at + 1] ?? 0
    if (size < 2 || at + size > length) return `a RADIUS packet whose attribute ${type} at byte ${at} runs past the packet`
    attributes.push({ type, value: datagram.subarray(at + 2, at + size) })
    at += size
  }
  return { code: datagram[0] ?? 0, identifier: datagram[1] ?? 0, authenticator: datagram.subarray(4, HEADER), attributes }
}

/** The packet's bytes, its length field set. */
export const encodePacket = (packet: RadiusPacket): Buffer => {
  const body = Buffer.concat(packet.attributes.map(({ type, value }) => Buffer.concat([Buffer.from([type, value.length + 2]), value])))
  const header = Buffer.alloc(4)
  header[0] = packet.code
  header[1] = packet.identifier
  header.writeUInt16BE(HEADER + body.length, 2)
  return Buffer.concat([header, packet.authenticator, body])
}

export const attribute = (packet: RadiusPacket, type: number): Buffer | undefined => packet.attributes.find((a) => a.type === type)?.value

const md5 = (...parts: ReadonlyArray<Uint8Array>): Buffer => {
  const hash = crypto.createHash("md5")
  for (const part of parts) hash.update(part)
  return hash.digest()
}

/** RFC 2865 §5.2: the password XORed, 16 bytes at a time, with MD5(secret + previous block), padded with NULs. */
export const hidePassword = (password: string, secret: string, authenticator: Buffer): Buffer => {
  const plain = Buffer.from(password, "utf8")
  const padded = Buffer.alloc(Math.max(16, Math.ceil(plain.length / 16) * 16))
  plain.copy(padded)
  const hidden = Buffer.alloc(padded.length)
  let previous = authenticator
  for (let at = 0; at < padded.length; at += 16) {
    const key = md5(Buffer.from(secret, "utf8"), previous)
    for (let i = 0; i < 16; i++) hidden[at + i] = (padded[at + i] ?? 0) ^ (key[i] ?? 0)
    previous = hidden.subarray(at, at + 16)
  }
  return hidden
}

/** The reverse of `hidePassword`; trailing NULs dropped. */
export const revealPassword = (hidden: Buffer, secret: string, authenticator: Buffer): string => {
  const plain = Buffer.alloc(hidden.length)
  let previous = authenticator
  for (let at = 0; at + 16 <= hidden.length; at += 16) {
    const key = md5(Buffer.from(secret, "utf8"), previous)
    for (let i = 0; i < 16; i++) plain[at + i] = (hidden[at + i] ?? 0) ^ (key[i] ?? 0)
    previous = hidden.subarray(at, at + 16)
  }
  return plain.toString("utf8").replace(/\0+$/u, "")
}

/** RFC 2865 §5.3: CHAP-Password is the CHAP identifier and MD5(identifier + password + challenge). */
export const chapMatches = (chapPassword: Buffer, challenge: Buffer, password: string): boolean => {
  if (chapPassword.length !== 17) return false
  const expected = md5(chapPassword.subarray(0, 1), Buffer.from(password, "utf8"), challenge)
  return crypto.timingSafeEqual(expected, chapPassword.subarray(1))
}

/** The packet's bytes with its Message-Authenticator set to HMAC-MD5 over them (RFC 3579 §3.2), `authenticator` in the header while hashing. */
const withMessageAuthenticator = (bytes: Buffer, secret: string, authenticator: Buffer): Buffer => {
  const copy = Buffer.from(bytes)
  authenticator.copy(copy, 4)
  const at = messageAuthenticatorOffset(copy)
  if (at < 0) return bytes
  copy.fill(0, at, at + 16)
  const mac = crypto.createHmac("md5", secret).update(copy).digest()
  const signed = Buffer.from(bytes)
  mac.copy(signed, at)
  return signed
}

/** Where the Message-Authenticator's 16 bytes start in a packet, or -1. */
const messageAuthenticatorOffset = (bytes: Buffer): number => {
  for (let at = HEADER; at + 2 <= bytes.length;) {
    const size = bytes[at + 1] ?? 0
    if (size < 2) return -1
    if (bytes[at] === ATTRIBUTE.messageAuthenticator && size === 18) return at + 2
    at += size
  }
  return -1
}

/** Whether a request's Message-Authenticator verifies with `secret` (true when it has none). */
export const requestAuthentic = (datagram: Buffer, secret: string): boolean => {
  const at = messageAuthenticatorOffset(datagram)
  if (at < 0) return true
  const signed = withMessageAuthenticator(datagram, secret, datagram.subarray(4, HEADER))
  return crypto.timingSafeEqual(signed.subarray(at, at + 16), datagram.subarray(at, at + 16))
}

/** An Access-Request ready to send: a random Request Authenticator, the User-Password hidden (none when null: CHAP), a Message-Authenticator. */
export const encodeRequest = (identifier: number, secret: string, attributes: ReadonlyArray<RadiusAttribute>, password: string | null): { readonly bytes: Buffer; readonly authenticator: Buffer } => {
  const authenticator = crypto.randomBytes(16)
  const bytes = encodePacket({
    code: CODE.accessRequest,
    identifier,
    authenticator,
    attributes: [
      ...attributes,
      ...(password === null ? [] : [{ type: ATTRIBUTE.userPassword, value: hidePassword(password, secret, authenticator) }]),
      { type: ATTRIBUTE.messageAuthenticator, value: Buffer.alloc(16) }
    ]
  })
  return { bytes: withMessageAuthenticator(bytes, secret, authenticator), authenticator }
}

/**
 * A response to `request`: a Message-Authenticator when the request had one, and the Response
 * Authenticator MD5(code, identifier, length, request authenticator, attributes, secret).
 */
export const encodeResponse = (code: number, request: RadiusPacket, secret: string, attributes: ReadonlyArray<RadiusAttribute>): Buffer => {
  const signed = attribute(request, ATTRIBUTE.messageAuthenticator) !== undefined
  let bytes = encodePacket({
    code,
    identifier: request.identifier,
    authenticator: request.authenticator,
    attributes: signed ? [...attributes, { type: ATTRIBUTE.messageAuthenticator, value: Buffer.alloc(16) }] : attributes
  })
  if (signed) bytes = withMessageAuthenticator(bytes, secret, request.authenticator)
  const auth = md5(bytes.subarray(0, 4), request.authenticator, bytes.subarray(HEADER), Buffer.from(secret, "utf8"))
  auth.copy(bytes, 4)
  return bytes
}

/** Whether a response's Response Authenticator is the one `secret` gives for the request it answers. */
export const responseAuthentic = (response: Buffer, requestAuthenticator: Buffer, secret: string): boolean => {
  const expected = md5(response.subarray(0, 4), requestAuthenticator, response.subarray(HEADER), Buffer.from(secret, "utf8"))
  return response.length >= HEADER && crypto.timingSafeEqual(expected, response.subarray(4, HEADER))
}

/** A Vendor-Specific attribute (26) with one vendor attribute. */
export const vendorAttribute = (vendor: number, type: number, value: Buffer): RadiusAttribute => {
  const head = Buffer.alloc(6)
  head.writeUInt32BE(vendor, 0)
  head[4] = type
  head[5] = value.length + 2
  return { type: ATTRIBUTE.vendorSpecific, value: Buffer.concat([head, value]) }
}

/** The values of one vendor attribute in a packet's Vendor-Specific attributes. */
export const vendorValues = (packet: RadiusPacket, vendor: number, type: number): ReadonlyArray<Buffer> =>
  packet.attributes.flatMap((a) => {
    if (a.type !== ATTRIBUTE.vendorSpecific || a.value.length < 6 || a.value.readUInt32BE(0) !== vendor) return []
    const values: Array<Buffer> = []
    for (let at = 4; at + 2 <= a.value.length;) {
      const size = a.value[at + 1] ?? 0
      if (size < 2) break
      if (a.value[at] === type) values.push(a.value.subarray(at + 2, at + size))
      at += size
    }
    return values
  })
