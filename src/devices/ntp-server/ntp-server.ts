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
import type { BindError } from "../../net/errors.ts"
import { listenUdp } from "../../net/udp.ts"
import { answerNtp, decodeNtp } from "../../protocols/ntp/packet.ts"
import type { Device, DeviceContext, DeviceStatus } from "../device.ts"
import { ListenerRun } from "../shared/listener-run.ts"

export const NTP_PORT: PortKey = "udp/123"

export interface NtpServerSettings {
  readonly serial: string
  readonly stratum: number
  /** Milliseconds its clock is ahead of this machine's (negative: behind). */
  readonly clockOffset: number
}

export class NtpServer implements Device {
  readonly kind = "ntp-server" as const
  readonly id: string
  readonly serial: string
  readonly settings: NtpServerSettings
  readonly #context: DeviceContext
  readonly #run: ListenerRun
  /** Requests answered. */
  answered = 0

  constructor(id: string, settings: NtpServerSettings, context: DeviceContext) {
    this.id = id
    this.serial = settings.serial
    this.settings = settings
    this.#context = context
    this.#run = new ListenerRun(this, context.bus)
  }

  status(): DeviceStatus {
    return this.#run.status
  }

  start(): Effect.Effect<void, BindError> {
    return this.#run.start({ prepare: () => Effect.void, bind: () => this.#bind() })
  }

  #bind() {
    const self = this
    const { plan, bus } = this.#context
    return Effect.gen(function*() {
      const udp = yield* listenUdp({
        device: self.id,
        port: NTP_PORT,
        host: plan.addressOf(self.id),
        actualPort: plan.listenPortFor(NTP_PORT),
        receiveBufferBytes: 262_144,
        onMessage: (message, peer) => {
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
        }
      })
      plan.recordBound({ device: self.id, port: NTP_PORT, address: udp.address, actualPort: udp.actualPort })
      bus.publish({ type: "listener-bound", device: self.id, port: NTP_PORT, address: udp.address, actualPort: udp.actualPort })
      yield* Effect.addFinalizer(() => Effect.sync(() => {
        plan.forget(self.id, NTP_PORT)
        bus.publish({ type: "listener-closed", device: self.id, port: NTP_PORT })
      }))
    })
  }

  stop(): Effect.Effect<void> {
    return this.#run.halt({ closing: Effect.void, closed: () => undefined })
  }

  kill(): Effect.Effect<void> {
    return this.stop()
  }

  dispose(): Effect.Effect<void> {
    return this.stop()
  }
}
