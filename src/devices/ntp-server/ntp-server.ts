/**
 * An emulated NTP server (the vendor table's "Non-Fortinet · NTP · UDP/123" peer): it answers NTP
 * client requests (mode 3) on UDP/123 with its own time, `clock-offset` ahead of this machine's
 * (so a lab can show an analyzer's clock off by a known amount), at its `stratum`. `sntp` and
 * any NTP client can ask it; an analyzer with `config system ntp` syncs from it.
 *
 * A datagram that is not an NTP client request gets no answer and a `log-malformed` event.
 */
import * as Effect from "effect/Effect"
import type { PortKey } from "../../events/events.ts"
import { answerNtp, decodeNtp } from "../../protocols/ntp/packet.ts"
import { PeerServer } from "../shared/peer-server.ts"

export const NTP_PORT: PortKey = "udp/123"

export interface NtpServerSettings {
  readonly serial: string
  readonly stratum: number
  /** Milliseconds its clock is ahead of this machine's (negative: behind). */
  readonly clockOffset: number
}

export class NtpServer extends PeerServer<NtpServerSettings> {
  readonly kind = "ntp-server" as const
  /** Requests answered. */
  answered = 0

  protected bind() {
    const self = this
    const { bus } = this.context
    return Effect.gen(function*() {
      const udp = yield* self.udp(NTP_PORT, 262_144, (message, peer) => {
        const receivedAt = Date.now() + self.settings.clockOffset
        const request = decodeNtp(message)
        const from = `${peer.address}:${peer.port}`
        if (typeof request === "string" || request.mode !== 3) {
          const detail = typeof request === "string" ? request : `mode ${request.mode}, not a client request (3)`
          bus.publish({ type: "log-malformed", device: self.id, port: NTP_PORT, peer: from, reason: "truncated", detail })
          return
        }
        const now = Date.now() + self.settings.clockOffset
        udp.send(answerNtp(message, { stratum: self.settings.stratum, referenceId: self.settings.stratum === 1 ? "LOCL" : "\x7f\x00\x00\x01", receivedAt, now }), peer.port, peer.address)
        self.answered++
      })
      yield* self.announce([{ port: NTP_PORT, address: udp.address, actualPort: udp.actualPort }])
    })
  }
}
