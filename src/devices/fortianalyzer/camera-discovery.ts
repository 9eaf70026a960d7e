/**
 * The analyzer's FortiRecorder camera discovery (the vendor table's outgoing "FortiRecorder
 * Cameras · Polling for camera discovery (broadcast) · UDP/6666, UDP/59123"), with `fortirecorder
 * camera-discovery enable`: at start and every `discovery-interval` of lab time it sends a
 * DISCOVER (`protocols/fortirecorder/discovery.ts`) on both ports and records the cameras that
 * answer.
 *
 * A real unit broadcasts on its interface's subnet. fazlab never sends a broadcast: the lab's
 * "subnet" is the lab itself, so the analyzer sends one unicast datagram to each lab device the
 * port plan knows to listen on UDP/6666 or UDP/59123 (every `fortirecorder-camera`), from a socket
 * on its own lab address that the answers come back to. The first answer of each camera is a
 * `camera-discovered` event; an answer that is not an ANNOUNCE is counted (`refused`) and
 * published as `recorder-refused`.
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type { EventBus } from "../../events/bus.ts"
import { isReported } from "../../events/events.ts"
import type { LabClock } from "../../machines/clock.ts"
import type { BindError } from "../../net/errors.ts"
import type { PortPlan } from "../../net/port-plan.ts"
import { listenUdp, type UdpServer } from "../../net/udp.ts"
import { decodeAnnounce, DISCOVERY_PORTS, type DiscoveryPort, encodeDiscover } from "../../protocols/fortirecorder/discovery.ts"
import type { AnalyzerRecorderSettings } from "./recorder-intake.ts"

/** A camera that answered, as the analyzer keeps it. */
export interface DiscoveredCamera {
  readonly serial: string
  readonly name: string
  readonly model: string
  readonly mac: string
  readonly address: string
  /** The discovery ports it answered on. */
  readonly ports: Set<DiscoveryPort>
}

export interface CameraDiscoveryOptions {
  readonly analyzer: string
  readonly serial: string
  readonly bus: EventBus
  readonly plan: PortPlan
  readonly clock: LabClock
  readonly settings: AnalyzerRecorderSettings
}

export class CameraDiscovery {
  readonly #options: CameraDiscoveryOptions
  readonly cameras = new Map<string, DiscoveredCamera>()
  /** Answers that were not an ANNOUNCE. */
  refused = 0
  #socket: UdpServer | null = null
  #timer: unknown = null
  #seq = 0

  constructor(options: CameraDiscoveryOptions) {
    this.#options = options
  }

  /** With camera discovery enabled, the socket it polls from, on the analyzer's own address, for the scope of the run. */
  bind(address: string): Effect.Effect<void, BindError, Scope.Scope> {
    if (this.#options.settings.cameraDiscovery === "disable") return Effect.void
    const self = this
    return Effect.gen(function*() {
      const socket = yield* listenUdp({
        device: self.#options.analyzer,
        port: "udp/0",
        host: address,
        actualPort: 0,
        receiveBufferBytes: 262_144,
        onMessage: (message, peer) => self.#answer(message, `${peer.address}`, peer.port)
      })
      self.#socket = socket
      yield* Effect.addFinalizer(() => Effect.sync(() => {
        self.#socket = null
      }))
    })
  }

  start(): void {
    if (this.#socket === null || this.#timer !== null) return
    this.#poll()
  }

  stop(): void {
    if (this.#timer !== null) this.#options.clock.clearTimeout(this.#timer)
    this.#timer = null
  }

  /** One DISCOVER to every lab address listening on a discovery port; the next poll after `discovery-interval`. */
  #poll(): void {
    const { plan, clock, settings, serial, analyzer } = this.#options
    const socket = this.#socket
    if (socket === null) return
    const request = encodeDiscover(++this.#seq, serial)
    for (const endpoint of plan.boundEndpoints()) {
      if (endpoint.device !== analyzer && (DISCOVERY_PORTS as ReadonlyArray<string>).includes(endpoint.port)) socket.send(request, endpoint.actualPort, endpoint.address)
    }
    this.#timer = clock.setTimeout(() => {
      this.#timer = null
      this.#poll()
    }, settings.discoveryInterval)
  }

  #answer(message: Buffer, address: string, port: number): void {
    const { bus, analyzer, plan } = this.#options
    const on = plan.boundEndpoints().find((e) => e.address === address && e.actualPort === port)?.port
    const discoveryPort = DISCOVERY_PORTS.find((p) => p === on) ?? null
    const announce = decodeAnnounce(message)
    if (typeof announce === "string" || discoveryPort === null) {
      this.refused++
      const reason = typeof announce === "string" ? announce : `an ANNOUNCE from ${address}:${port}, where no lab camera listens`
      if (isReported(this.refused)) {
        bus.publish({ type: "recorder-refused", device: analyzer, peer: `${address}:${port}`, port: discoveryPort ?? "udp/6666", code: "bad-announce", reason: `${reason} (bad-announce; ${this.refused} so far)` })
      }
      return
    }
    const known = this.cameras.get(announce.serial)
    if (known?.ports.has(discoveryPort) === true) return
    if (known === undefined) this.cameras.set(announce.serial, { serial: announce.serial, name: announce.name, model: announce.model, mac: announce.mac, address, ports: new Set([discoveryPort]) })
    else known.ports.add(discoveryPort)
    bus.publish({
      type: "camera-discovered",
      device: analyzer,
      serial: announce.serial,
      name: announce.name,
      model: announce.model,
      address,
      port: discoveryPort,
      reason: `camera ${announce.name} (${announce.model}, ${announce.serial}) answered discovery on ${discoveryPort} from ${address}`
    })
  }
}
