/**
 * An emulated DNS server (the vendor table's "Non-Fortinet · DNS · UDP/53, TCP/53" peer): it
 * answers, authoritatively, for every FQDN of the vendor table and for the lab's own names
 * (`<id>.<domain>`), on UDP/53 and on TCP/53 (RFC 1035 §4.2.2: a two-byte length before each
 * message). `dig` can ask it; an analyzer resolves through it (`config system dns`).
 *
 * What a vendor name answers: the address of the lab device its `records` entry names (or an IP
 * written there), else the address of the lab's peer for the name (a `fortiguard` device for the
 * FortiGuard names, a `fortinet-registry` for registry.fortinet.com: the kind that emulates the
 * name's catalog row), else `default-address` (127.0.0.1: in a lab without internet nothing
 * listens there, so the analyzer's FortiGuard connection is refused, as behind a firewall that
 * drops it).
 * Every query is a `dns-query` event with its answer.
 */
import type * as net from "node:net"
import { isIP } from "node:net"
import * as Effect from "effect/Effect"
import type { PortKey } from "../../events/events.ts"
import { type ConnectionLimitSettings, peerOf } from "../../net/tcp.ts"
import { answerQuery, vendorNames } from "../../protocols/dns/lab-zone.ts"
import type { DeviceContext } from "../device.ts"
import { ConnectionRules } from "../shared/connection-rules.ts"
import { PeerServer } from "../shared/peer-server.ts"

export const DNS_PORTS: ReadonlyArray<PortKey> = ["udp/53", "tcp/53"]

/** What the server is built with: its lab file settings (TCP/53's connection rules among them) and its lab peers. */
export interface DnsServerSettings extends ConnectionLimitSettings {
  readonly serial: string
  /** The lab's own names are `<device id>.<domain>`. */
  readonly domain: string
  /** Vendor names (or any name) to a lab device id or an IPv4 address. */
  readonly records: Readonly<Record<string, string>>
  /** Vendor names served by a device of the lab (its kind emulates the name's catalog row), to that device's id. */
  readonly vendorPeers: ReadonlyMap<string, string>
  /** What a vendor name without a record or a lab peer answers. */
  readonly defaultAddress: string
  /** Seconds. */
  readonly ttl: number
}

/** The largest DNS message over TCP (a two-byte length). */
const MAX_TCP_MESSAGE = 65_535

export class DnsServer extends PeerServer<DnsServerSettings> {
  readonly kind = "dns-server" as const
  /** TCP/53's connection rules (fixed limits); `connections.closed` counts by rule. */
  readonly connections: ConnectionRules
  readonly #vendor: ReadonlySet<string> = new Set(vendorNames())
  readonly #queries = new Map<string, number>()

  constructor(id: string, settings: DnsServerSettings, context: DeviceContext) {
    super(id, settings, context)
    this.connections = new ConnectionRules(id, context)
  }

  /** Queries asked for `name` (lowercase, no final dot), or for any name. */
  queries(name?: string): number {
    if (name !== undefined) return this.#queries.get(name.toLowerCase().replace(/\.$/u, "")) ?? 0
    let total = 0
    for (const n of this.#queries.values()) total += n
    return total
  }

  /** A name's addresses in this zone, or null when the zone does not have it. */
  readonly lookup = (name: string): ReadonlyArray<string> | null => {
    const { plan } = this.context
    const record = this.settings.records[name]
    if (record !== undefined) return [isIP(record) === 4 ? record : plan.addressOf(record)]
    const suffix = `.${this.settings.domain}`
    if (name.endsWith(suffix)) {
      const id = name.slice(0, -suffix.length)
      return plan.hasDevice(id) ? [plan.addressOf(id)] : null
    }
    if (!this.#vendor.has(name)) return null
    const peer = this.settings.vendorPeers.get(name)
    return [peer === undefined ? this.settings.defaultAddress : plan.addressOf(peer)]
  }

  #answer(query: Buffer, transport: "udp" | "tcp", peer: string): Buffer | null {
    const answer = answerQuery(query, this.lookup, this.settings.ttl)
    const { bus } = this.context
    if (answer === null) {
      bus.publish({ type: "log-malformed", device: this.id, port: `${transport}/53`, peer, reason: "truncated", detail: `a ${query.length}-byte message that is not a DNS query` })
      return null
    }
    this.#queries.set(answer.name, (this.#queries.get(answer.name) ?? 0) + 1)
    bus.publish({ type: "dns-query", device: this.id, peer, transport, name: answer.name, qtype: answer.type, rcode: answer.rcode === 0 ? "NOERROR" : answer.rcode === 3 ? "NXDOMAIN" : "FORMERR", addresses: answer.addresses })
    return answer.response
  }

  protected bind() {
    const self = this
    return Effect.gen(function*() {
      const udp = yield* self.udp("udp/53", 1_048_576, (message, peer) => {
        const response = self.#answer(message, "udp", `${peer.address}:${peer.port}`)
        if (response !== null) udp.send(response, peer.port, peer.address)
      })
      const tcp = yield* self.tcp("tcp/53", {
        ...self.connections.listener(self.settings, `devices.${self.id}`, "tcp/53"),
        onConnection: (socket) => self.#onTcp(socket)
      })
      yield* self.announce([{ port: "udp/53", address: udp.address, actualPort: udp.actualPort }, { port: "tcp/53", address: tcp.address, actualPort: tcp.actualPort }])
    })
  }

  /** TCP/53: messages with a two-byte length, answered in order; the peer closes when done. */
  #onTcp(socket: net.Socket): void {
    let buffered = Buffer.alloc(0)
    const peer = peerOf(socket)
    socket.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk])
      while (buffered.length >= 2) {
        const length = buffered.readUInt16BE(0)
        if (buffered.length < 2 + length) {
          if (buffered.length > 2 + MAX_TCP_MESSAGE) socket.destroy()
          return
        }
        const response = this.#answer(buffered.subarray(2, 2 + length), "tcp", peer)
        buffered = buffered.subarray(2 + length)
        if (response === null) {
          socket.destroy()
          return
        }
        const framed = Buffer.alloc(2 + response.length)
        framed.writeUInt16BE(response.length, 0)
        response.copy(framed, 2)
        socket.write(framed)
      }
    })
  }
}
