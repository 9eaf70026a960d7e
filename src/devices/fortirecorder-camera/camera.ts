/**
 * An emulated FortiRecorder camera: it listens on UDP/6666 and UDP/59123 and answers each
 * analyzer's DISCOVER with an ANNOUNCE (its serial, name, model, MAC and ports) to the datagram's
 * source (`protocols/fortirecorder/discovery.ts`). A datagram that is not a DISCOVER gets no
 * answer; it is counted (`refused`) and published as `recorder-refused` with why.
 */
import * as crypto from "node:crypto"
import * as Effect from "effect/Effect"
import { isReported } from "../../events/events.ts"
import type { BindError } from "../../net/errors.ts"
import { listenUdp } from "../../net/udp.ts"
import { decodeDiscover, DISCOVERY_PORTS, encodeAnnounce } from "../../protocols/fortirecorder/discovery.ts"
import type { Device, DeviceContext, DeviceStatus } from "../device.ts"
import { ListenerRun } from "../shared/listener-run.ts"
import type { FortiRecorderCameraSpec } from "./settings.ts"

export class FortiRecorderCamera implements Device {
  readonly kind = "fortirecorder-camera"
  readonly id: string
  readonly serial: string
  readonly hostname: string
  readonly settings: FortiRecorderCameraSpec
  readonly #context: DeviceContext
  readonly #run: ListenerRun
  /** A locally administered MAC from its serial: the same across restarts. */
  readonly mac: string
  /** DISCOVERs answered, and datagrams that were not one. */
  answered = 0
  refused = 0

  constructor(id: string, settings: FortiRecorderCameraSpec, context: DeviceContext) {
    this.id = id
    this.serial = settings.serial
    this.hostname = settings.hostname
    this.settings = settings
    this.#context = context
    this.#run = new ListenerRun(this, context.bus)
    const bytes = crypto.createHash("sha256").update(settings.serial).digest()
    this.mac = ["02", ...Array.from(bytes.subarray(0, 5), (b) => b.toString(16).padStart(2, "0"))].join(":")
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
      for (const port of DISCOVERY_PORTS) {
        const udp = yield* listenUdp({
          device: self.id,
          port,
          host: plan.addressOf(self.id),
          actualPort: plan.listenPortFor(port),
          receiveBufferBytes: 262_144,
          onMessage: (message, peer) => {
            const discover = decodeDiscover(message)
            if (typeof discover === "string") {
              self.refused++
              if (isReported(self.refused)) {
                bus.publish({ type: "recorder-refused", device: self.id, peer: `${peer.address}:${peer.port}`, port, code: "bad-discovery", reason: `${discover} (bad-discovery; ${self.refused} so far)` })
              }
              return
            }
            const { settings } = self
            udp.send(encodeAnnounce({ seq: discover.seq, serial: self.serial, name: self.hostname, model: settings.model, mac: self.mac, http: settings.httpPort, rtsp: settings.rtspPort }), peer.port, peer.address)
            self.answered++
          }
        })
        plan.recordBound({ device: self.id, port, address: udp.address, actualPort: udp.actualPort })
        bus.publish({ type: "listener-bound", device: self.id, port, address: udp.address, actualPort: udp.actualPort })
        yield* Effect.addFinalizer(() => Effect.sync(() => {
          plan.forget(self.id, port)
          bus.publish({ type: "listener-closed", device: self.id, port })
        }))
      }
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
