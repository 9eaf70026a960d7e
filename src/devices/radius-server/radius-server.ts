/**
 * An emulated RADIUS server (the vendor table's "Non-Fortinet · RADIUS · UDP/1812" peer): it
 * answers Access-Requests (RFC 2865) for the lab's users with its shared secret, so `radclient`
 * can test it and an analyzer can check its remote administrators against it
 * (`config system admin radius`).
 *
 * PAP (User-Password) and CHAP (CHAP-Password, with CHAP-Challenge or the Request Authenticator
 * as the challenge) are checked; an Access-Accept carries the user's `Fortinet-Group-Name`
 * (vendor 12356, attribute 1) when it has a group, an Access-Reject a Reply-Message saying why. A
 * request with a Message-Authenticator gets one back; a request whose Message-Authenticator does
 * not verify (another secret), a packet that is not RADIUS and any code but Access-Request are
 * dropped unanswered, as RFC 2865 §3 says. Every request is a `radius-request` event with its
 * outcome ("accept", "reject" or "dropped") and why.
 */
import * as Effect from "effect/Effect"
import type { PortKey } from "../../events/events.ts"
import {
  attribute,
  ATTRIBUTE,
  chapMatches,
  CODE,
  decodePacket,
  encodeResponse,
  FORTINET_GROUP_NAME,
  FORTINET_VENDOR,
  type RadiusPacket,
  requestAuthentic,
  revealPassword,
  vendorAttribute
} from "../../protocols/radius/packet.ts"
import { PeerServer } from "../shared/peer-server.ts"
import type { RadiusServerSpec } from "./settings.ts"

export const RADIUS_PORT: PortKey = "udp/1812"

type Outcome = { readonly result: "accept" | "reject"; readonly method: "pap" | "chap" | null; readonly user: string; readonly group: string | null; readonly reason: string }

export class RadiusServer extends PeerServer<RadiusServerSpec> {
  readonly kind = "radius-server" as const
  accepted = 0
  rejected = 0
  dropped = 0
  /** Requests by outcome and user. */
  readonly #requests = new Map<string, number>()

  /** Requests for `user` (anyone when undefined) that came to `result` (any when undefined). */
  requestsOf(user: string | undefined, result: "accept" | "reject" | "dropped" | undefined): number {
    let total = 0
    for (const [key, n] of this.#requests) {
      const [outcome = "", name = ""] = key.split("\0")
      if ((user === undefined || name === user) && (result === undefined || outcome === result)) total += n
    }
    return total
  }

  #publish(peer: string, user: string, method: "pap" | "chap" | null, result: "accept" | "reject" | "dropped", group: string | null, reason: string): void {
    const key = `${result}\0${user}`
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1)
    this.context.bus.publish({ type: "radius-request", device: this.id, peer, user, method, result, group, reason })
  }

  protected bind() {
    const self = this
    return Effect.gen(function*() {
      const udp = yield* self.udp(RADIUS_PORT, 262_144, (datagram, peer) => {
        const answer = self.#onDatagram(datagram, `${peer.address}:${peer.port}`)
        if (answer !== null) udp.send(answer, peer.port, peer.address)
      })
      yield* self.announce([{ port: RADIUS_PORT, address: udp.address, actualPort: udp.actualPort }])
    })
  }

  #onDatagram(datagram: Buffer, peer: string): Buffer | null {
    const packet = decodePacket(datagram)
    const drop = (user: string, reason: string) => {
      this.dropped++
      this.#publish(peer, user, null, "dropped", null, reason)
      return null
    }
    if (typeof packet === "string") return drop("", `${peer} sent ${packet}; it is dropped`)
    const user = attribute(packet, ATTRIBUTE.userName)?.toString("utf8") ?? ""
    if (packet.code !== CODE.accessRequest) return drop(user, `${peer} sent a RADIUS packet of code ${packet.code}; only Access-Request (1) is answered on UDP/1812, so it is dropped`)
    if (!requestAuthentic(datagram, this.settings.secret)) return drop(user, `the Message-Authenticator of ${peer}'s Access-Request does not verify: the client's shared secret is not this server's; it is dropped`)
    const outcome = this.#check(packet, user)
    if (outcome.result === "accept") this.accepted++
    else this.rejected++
    this.#publish(peer, user, outcome.method, outcome.result, outcome.group, outcome.reason)
    return outcome.result === "accept"
      ? encodeResponse(CODE.accessAccept, packet, this.settings.secret, outcome.group === null ? [] : [vendorAttribute(FORTINET_VENDOR, FORTINET_GROUP_NAME, Buffer.from(outcome.group, "utf8"))])
      : encodeResponse(CODE.accessReject, packet, this.settings.secret, [{ type: ATTRIBUTE.replyMessage, value: Buffer.from(outcome.reason, "utf8").subarray(0, 253) }])
  }

  #check(packet: RadiusPacket, name: string): Outcome {
    const user = Object.hasOwn(this.settings.user, name) ? this.settings.user[name] : undefined
    const hidden = attribute(packet, ATTRIBUTE.userPassword)
    const chap = attribute(packet, ATTRIBUTE.chapPassword)
    const method = hidden !== undefined ? "pap" : chap !== undefined ? "chap" : null
    const reject = (reason: string): Outcome => ({ result: "reject", method, user: name, group: null, reason })
    if (name === "") return reject("the Access-Request has no User-Name")
    if (user === undefined) return reject(`no user named ${name}`)
    if (hidden !== undefined) {
      if (revealPassword(hidden, this.settings.secret, packet.authenticator) !== user.password) return reject(`wrong password for ${name} (or a client whose shared secret is not this server's)`)
    } else if (chap !== undefined) {
      const challenge = attribute(packet, ATTRIBUTE.chapChallenge) ?? packet.authenticator
      if (!chapMatches(chap, challenge, user.password)) return reject(`wrong CHAP response for ${name}`)
    } else return reject(`the Access-Request for ${name} has neither User-Password nor CHAP-Password`)
    return { result: "accept", method, user: name, group: user.group, reason: user.group === null ? `${name} accepted` : `${name} accepted, Fortinet-Group-Name ${user.group}` }
  }
}
