/**
 * An emulated FortiRecorder camera: it listens on UDP/6666 and UDP/59123 and answers each
 * analyzer's DISCOVER with an ANNOUNCE (its serial, name, model, MAC and ports) to the datagram's
 * source (`protocols/fortirecorder/discovery.ts`). A datagram that is not a DISCOVER gets no
 * answer; it is counted (`refused`) and published as `recorder-refused` with why.
 */
import * as crypto from "node:crypto"
import * as Effect from "effect/Effect"
import { isReported } from "../../events/events.ts"
import { decodeDiscover, DISCOVERY_PORTS, encodeAnnounce } from "../../protocols/fortirecorder/discovery.ts"
import type { DeviceContext } from "../device.ts"
import { PeerServer } from "../shared/peer-server.ts"
import type { FortiRecorderCameraSpec } from "./settings.ts"

export class FortiRecorderCamera extends PeerServer<FortiRecorderCameraSpec> {
  readonly kind = "fortirecorder-camera"
  readonly hostname: string
  /** A locally administered MAC from its serial: the same across restarts. */
  readonly mac: string
  /** DISCOVERs answered, and datagrams that were not one. */
  answered = 0
  refused = 0

  constructor(id: string, settings: FortiRecorderCameraSpec, context: DeviceContext) {
    super(id, settings, context)
    this.hostname = settings.hostname
    const bytes = crypto.createHash("sha256").update(settings.serial).digest()
    this.mac = ["02", ...Array.from(bytes.subarray(0, 5), (b) => b.toString(16).padStart(2, "0"))].join(":")
  }

  protected bind() {
    const self = this
    const { bus } = this.context
    return Effect.gen(function*() {
      for (const port of DISCOVERY_PORTS) {
        const udp = yield* self.udp(port, 262_144, (message, peer) => {
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
        })
        yield* self.announce([{ port, address: udp.address, actualPort: udp.actualPort }])
      }
    })
  }
}
