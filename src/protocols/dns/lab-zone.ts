/**
 * The lab's DNS zone and the answers of its DNS server, pure (bytes and names in, packets out).
 *
 * The zone holds every FQDN of the vendor table (the outgoing rows' URLs, the anycast and
 * non-anycast update names of the anycast table) and the lab's own names (`<id>.<domain>`). A name
 * answers with A records; a name outside the zone is NXDOMAIN; a question other than A (AAAA, MX
 * ...) for a known name is answered with no records (NOERROR, NODATA), as an authoritative server
 * does. Packets are dns-packet's (RFC 1035 wire format).
 */
import * as dnsPacket from "dns-packet"
import { vendorHostNames } from "../../catalog/catalog.ts"

/** Every host name the vendor table names: its URLs and its anycast table, lowercase, once each. */
export const vendorNames = (): ReadonlyArray<string> => vendorHostNames().map(({ name }) => name)

export const RCODE_NOERROR = 0
export const RCODE_FORMERR = 1
export const RCODE_NXDOMAIN = 3

export interface DnsAnswer {
  readonly response: Buffer
  /** The first question's name and type, "" when the query had none. */
  readonly name: string
  readonly type: string
  readonly rcode: number
  readonly addresses: ReadonlyArray<string>
}

/**
 * The answer to one query: `lookup` gives a name's addresses (null: not in the zone). A query that
 * cannot be decoded gets no answer (null): a server cannot even echo its id.
 */
export const answerQuery = (query: Buffer, lookup: (name: string) => ReadonlyArray<string> | null, ttl: number): DnsAnswer | null => {
  let decoded: dnsPacket.DecodedPacket
  try {
    decoded = dnsPacket.decode(query)
  } catch {
    return null
  }
  const question = decoded.questions?.[0]
  const flags = dnsPacket.AUTHORITATIVE_ANSWER | (decoded.flag_rd ? dnsPacket.RECURSION_DESIRED : 0)
  if (decoded.type !== "query" || question === undefined) {
    const response = dnsPacket.encode({ type: "response", id: decoded.id ?? 0, flags: flags | RCODE_FORMERR, questions: decoded.questions ?? [] })
    return { response, name: "", type: "", rcode: RCODE_FORMERR, addresses: [] }
  }
  const name = question.name.toLowerCase().replace(/\.$/u, "")
  const addresses = lookup(name)
  const rcode = addresses === null ? RCODE_NXDOMAIN : RCODE_NOERROR
  const records = question.type === "A" && addresses !== null ? addresses : []
  const response = dnsPacket.encode({
    type: "response",
    id: decoded.id ?? 0,
    flags: flags | rcode,
    questions: [question],
    answers: records.map((address) => ({ type: "A", class: "IN", name: question.name, ttl, data: address }))
  })
  return { response, name, type: question.type, rcode, addresses: records }
}

/** A query for `name` (type A) with `id`, as a resolver sends it. */
export const encodeQuery = (name: string, id: number): Buffer =>
  dnsPacket.encode({ type: "query", id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: "A", class: "IN", name }] })

/** A response's id, rcode and A records; null when it is not a DNS response. */
export const decodeResponse = (bytes: Buffer): { readonly id: number; readonly rcode: number; readonly addresses: ReadonlyArray<string> } | null => {
  try {
    const packet = dnsPacket.decode(bytes)
    if (packet.type !== "response") return null
    const rcode = (packet.flags ?? 0) & 0x0f
    const addresses = (packet.answers ?? []).flatMap((answer) => (answer.type === "A" ? [answer.data] : []))
    return { id: packet.id ?? 0, rcode, addresses }
  } catch {
    return null
  }
}
