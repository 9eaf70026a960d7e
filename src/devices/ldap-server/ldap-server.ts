/**
 * An emulated LDAP server (the vendor table's "Non-Fortinet · LDAP & PKI authentication" and
 * "Report query" peer, TCP/389 and UDP/389): a read-only directory of the lab's users and groups
 * (`protocols/ldap/directory.ts`) that `ldapsearch` can bind to and search, and that an analyzer
 * checks its remote administrators against (`config system admin ldap`).
 *
 * TCP/389 is LDAPv3 (RFC 4511): simple bind, search, unbind, abandon, the Who am I? extended
 * operation (RFC 4532, `ldapwhoami`); a SASL bind is answered authMethodNotSupported, StartTLS
 * unavailable (plain LDAP only), and add, modify, delete, modify DN and compare
 * unwillingToPerform (the directory is read-only). UDP/389 is connectionless LDAP (CLDAP, as
 * Active Directory answers its "LDAP ping"): a search in one datagram, its entries and its
 * SearchResultDone together in one datagram back; a datagram that is not a search is not
 * answered. Every bind is an `ldap-bind` event, every search an `ldap-search` event; a message
 * that is not LDAP is an `ldap-refused` event with a sentence (counted in `refused`), and on
 * TCP/389 a Notice of Disconnection before the server closes the connection.
 */
import type * as net from "node:net"
import * as Effect from "effect/Effect"
import type { PortKey } from "../../events/events.ts"
import { peerOf } from "../../net/tcp.ts"
import { Directory, normalizeDn, selectAttributes } from "../../protocols/ldap/directory.ts"
import {
  bindResponse,
  extendedResponse,
  type LdapRequest,
  noticeOfDisconnection,
  readMessage,
  RESULT,
  resultMessage,
  resultName,
  searchDone,
  searchEntry
} from "../../protocols/ldap/messages.ts"
import type { DeviceContext } from "../device.ts"
import { ConnectionRules } from "../shared/connection-rules.ts"
import { PeerServer } from "../shared/peer-server.ts"
import type { LdapServerSpec } from "./settings.ts"

export const LDAP_PORTS: ReadonlyArray<PortKey> = ["tcp/389", "udp/389"]

/** RFC 4532's Who am I? */
const WHO_AM_I = "1.3.6.1.4.1.4203.1.11.3"
/** RFC 4511 §4.14's StartTLS. */
const START_TLS = "1.3.6.1.4.1.1466.20037"
/** RFC 4511 §4.5.1.7's sizeLimitExceeded; §4.1.9's insufficientAccessRights. */
const SIZE_LIMIT_EXCEEDED = 4
const INSUFFICIENT_ACCESS = 50

export class LdapServer extends PeerServer<LdapServerSpec> {
  readonly kind = "ldap-server" as const
  readonly directory: Directory
  /** TCP/389's connection rules; `connections.closed` counts by rule. */
  readonly connections: ConnectionRules
  /** Binds answered, by outcome and normalized DN. */
  readonly #binds = new Map<string, number>()
  searches = 0
  /** Messages that were not LDAP, or not a search on UDP/389. */
  refused = 0

  constructor(id: string, settings: LdapServerSpec, context: DeviceContext) {
    super(id, settings, context)
    this.connections = new ConnectionRules(id, context)
    const users = Object.fromEntries(Object.entries(settings.user).map(([uid, user]) => [uid, { password: user.password, groups: user.group, mail: user.mail }]))
    this.directory = new Directory(settings.baseDn, users, settings.bind)
  }

  protected bind() {
    const self = this
    return Effect.gen(function*() {
      const tcp = yield* self.tcp("tcp/389", {
        ...self.connections.listener(self.settings, `devices.${self.id}`, "tcp/389"),
        onConnection: (socket) => self.#onTcp(socket)
      })
      const udp = yield* self.udp("udp/389", 262_144, (datagram, peer) => {
        const answer = self.#onDatagram(datagram, `${peer.address}:${peer.port}`)
        if (answer !== null) udp.send(answer, peer.port, peer.address)
      })
      yield* self.announce([{ port: "tcp/389", address: tcp.address, actualPort: tcp.actualPort }, { port: "udp/389", address: udp.address, actualPort: udp.actualPort }])
    })
  }

  #refuse(peer: string, transport: "tcp" | "udp", reason: string): void {
    this.refused++
    this.context.bus.publish({ type: "ldap-refused", device: this.id, peer, transport, reason, count: this.refused })
  }

  /** One connection: its messages in order, with what it is bound as. */
  #onTcp(socket: net.Socket): void {
    const peer = peerOf(socket)
    let buffered: Buffer = Buffer.alloc(0)
    let boundAs = ""
    socket.on("error", () => undefined)
    socket.on("data", (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk])
      for (;;) {
        const read = readMessage(buffered)
        if (read === null) return
        buffered = buffered.subarray(read.bytes)
        const request = read.request
        if (typeof request === "string") {
          const reason = `${peer} sent ${request}; the connection is closed (send LDAPv3 messages, RFC 4511)`
          this.#refuse(peer, "tcp", reason)
          socket.end(noticeOfDisconnection(reason))
          return
        }
        if (request.op === "unbind") {
          socket.end()
          return
        }
        if (request.op === "bind") {
          const answer = this.#bindRequest(request, peer)
          if (answer.ok) boundAs = request.dn
          socket.write(answer.response)
          continue
        }
        for (const response of this.#answer(request, peer, "tcp", boundAs)) socket.write(response)
      }
    })
  }

  /** Binds answered as `dn` (any when undefined), accepted or refused as `ok` says (either when undefined). */
  bindsOf(dn: string | undefined, ok: boolean | undefined): number {
    let total = 0
    for (const [key, n] of this.#binds) {
      const [outcome, name] = [key.slice(0, 1), key.slice(2)]
      if ((dn === undefined || name === normalizeDn(dn)) && (ok === undefined || outcome === (ok ? "1" : "0"))) total += n
    }
    return total
  }

  #publishBind(peer: string, dn: string, ok: boolean, reason: string): void {
    const key = `${ok ? "1" : "0"} ${normalizeDn(dn)}`
    this.#binds.set(key, (this.#binds.get(key) ?? 0) + 1)
    this.context.bus.publish({ type: "ldap-bind", device: this.id, peer, dn, ok, reason })
  }

  #bindRequest(request: Extract<LdapRequest, { op: "bind" }>, peer: string): { readonly ok: boolean; readonly response: Buffer } {
    if (request.version !== 3) {
      const reason = `a bind with LDAP version ${request.version}: only LDAPv3 is emulated`
      this.#publishBind(peer, request.dn, false, reason)
      return { ok: false, response: bindResponse(request.messageId, RESULT.protocolError, reason) }
    }
    const outcome = this.directory.bind(request.dn, request.password)
    const reason = outcome.ok ? (outcome.anonymous ? "anonymous bind" : `bound as ${request.dn}`) : outcome.reason
    this.#publishBind(peer, request.dn, outcome.ok, reason)
    return { ok: outcome.ok, response: bindResponse(request.messageId, outcome.ok ? RESULT.success : outcome.code, outcome.ok ? "" : reason) }
  }

  /** The responses to any request but bind and unbind (none for abandon). */
  #answer(request: Exclude<LdapRequest, { op: "bind" | "unbind" }>, peer: string, transport: "tcp" | "udp", boundAs: string): ReadonlyArray<Buffer> {
    switch (request.op) {
      case "bind-unsupported":
        this.#publishBind(peer, "", false, `an unsupported bind (${request.detail}): only simple binds are emulated`)
        return [bindResponse(request.messageId, RESULT.authMethodNotSupported, "only simple binds are emulated")]
      case "abandon":
        return []
      case "extended":
        if (request.oid === WHO_AM_I) return [extendedResponse(request.messageId, RESULT.success, "", boundAs === "" ? "" : `dn:${boundAs}`)]
        if (request.oid === START_TLS) return [extendedResponse(request.messageId, RESULT.unavailable, "StartTLS is not offered: this emulated directory speaks plain LDAP on TCP/389", null)]
        return [extendedResponse(request.messageId, RESULT.protocolError, `the extended operation ${request.oid} is not emulated`, null)]
      case "write":
        return [resultMessage(request.messageId, request.responseTag, RESULT.unwillingToPerform, `${request.name} is refused: the emulated directory is read-only (its entries come from the lab file)`)]
      case "search":
        return this.#search(request, peer, transport, boundAs)
    }
  }

  #search(request: Extract<LdapRequest, { op: "search" }>, peer: string, transport: "tcp" | "udp", boundAs: string): ReadonlyArray<Buffer> {
    this.searches++
    const filter = request.filter.toString()
    const publish = (entries: number, code: number, reason: string) =>
      this.context.bus.publish({ type: "ldap-search", device: this.id, peer, transport, base: request.base, scope: request.scope, filter, entries, result: resultName(code), reason })
    // The root DSE is readable by anyone, as on every LDAPv3 server.
    const rootDse = request.base === "" && request.scope === "base"
    if (boundAs === "" && !rootDse && this.settings.anonymousSearch === "disable") {
      const reason = "an anonymous search is refused (anonymous-search disable): bind first"
      publish(0, INSUFFICIENT_ACCESS, reason)
      return [searchDone(request.messageId, INSUFFICIENT_ACCESS, reason)]
    }
    const found = this.directory.search(request.base, request.scope, request.filter)
    if (found === null) {
      const reason = `no entry ${request.base}`
      publish(0, RESULT.noSuchObject, reason)
      return [searchDone(request.messageId, RESULT.noSuchObject, reason)]
    }
    const limited = request.sizeLimit > 0 && found.length > request.sizeLimit
    const entries = limited ? found.slice(0, request.sizeLimit) : found
    const code = limited ? SIZE_LIMIT_EXCEEDED : RESULT.success
    publish(entries.length, code, limited ? `${found.length} entries match, the client's size limit is ${request.sizeLimit}` : `${entries.length} ${entries.length === 1 ? "entry" : "entries"}`)
    return [
      ...entries.map((entry) => searchEntry(request.messageId, entry.dn, selectAttributes(entry, request.attributes, request.typesOnly))),
      searchDone(request.messageId, code, "")
    ]
  }

  /** CLDAP: a search in one datagram gets its answer in one datagram; anything else none. */
  #onDatagram(datagram: Buffer, peer: string): Buffer | null {
    const read = readMessage(datagram)
    const request = read?.request ?? "a datagram that ends inside its LDAPMessage"
    if (typeof request === "string") {
      this.#refuse(peer, "udp", `${peer} sent ${request} to UDP/389; it is not answered (send one LDAPv3 search per datagram)`)
      return null
    }
    if (request.op !== "search") {
      this.#refuse(peer, "udp", `${peer} sent a ${request.op} request to UDP/389; connectionless LDAP answers searches only (use TCP/389)`)
      return null
    }
    return Buffer.concat(this.#search(request, peer, "udp", ""))
  }
}
