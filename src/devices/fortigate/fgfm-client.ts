/**
 * A FortiGate's `config system central-management` (type fortimanager): the FGFM link to a
 * FortiManager on TCP/541. It registers (serial, hostname, platform, version and the timers it
 * wants), keeps the session alive every `keepalive-interval`, gives it up after `sock-timeout`
 * of silence and retries after `retry-interval`.
 *
 * The session itself is `machines/fgfm-client.ts`; this module supplies its I/O: TCP + TLS
 * (certificate chained to the lab CA, the FortiOS `enc-algorithm` levels), FGFM messages in and
 * out, and `fgfm-link` events. The link's socket is `devices/shared/client-link.ts`, as for OFTP.
 */
import * as Schema from "effect/Schema"
import { type Actor, createActor, fromPromise } from "xstate"
import type { PortKey } from "../../events/events.ts"
import { fgfmClientMachine, fgfmClientPhase, type FgfmClientPhase, type FgfmClientSnapshot } from "../../machines/fgfm-client.ts"
import type { EncAlgorithm } from "../../net/tls.ts"
import { encodeFgfm, FGFM_DEFAULT_MAX_MESSAGE_BYTES, FgfmDecoder, type FgfmMessage } from "../../protocols/fgfm/frames.ts"
import type { DeviceContext } from "../device.ts"
import { ClientLink } from "../shared/client-link.ts"
import { Duration, Server, settingsStruct, withDefault } from "../settings.ts"

/** A FortiGate's `config system central-management` (type fortimanager). Times in milliseconds (whole seconds on the wire). */
export const CentralManagementSettings = settingsStruct({
  /** `fmg`: a FortiManager of the lab, or host / host:port outside it. */
  fmg: Server,
  /** FortiOS `enc-algorithm`: default (high and medium suites), high or low. */
  encAlgorithm: withDefault(Schema.Literals(["default", "high", "low"]), "high"),
  /** FGFM `keepalive_interval` this FortiGate asks for. */
  keepaliveInterval: withDefault(Duration, "300s"),
  /** FGFM `sock_timeout` this FortiGate asks for. */
  sockTimeout: withDefault(Duration, "900s"),
  /** fazlab's: bounds connect + TLS + register reply. */
  connectTimeout: withDefault(Duration, "10s"),
  /** fazlab's: the wait between a failure and the next attempt. */
  retryInterval: withDefault(Duration, "10s")
})
export type CentralManagementSettings = typeof CentralManagementSettings.Type

export interface FgfmIdentity {
  readonly id: string
  readonly serial: string
  readonly hostname: string
  readonly platform: string
  readonly version: string
}

/** The documented FGFM port, and the port used for a host outside the lab given without one. */
export const FGFM_PORT: PortKey = "tcp/541"

/** FortiOS `enc-algorithm` of central-management → the TLS module's levels. */
const TLS_LEVELS: Readonly<Record<CentralManagementSettings["encAlgorithm"], EncAlgorithm>> = {
  default: "high-medium",
  high: "high",
  low: "low"
}

/** Seconds on the wire: whole, at least 1. */
const wireSeconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000))

export class FgfmClient {
  readonly settings: CentralManagementSettings
  readonly #actor: Actor<typeof fgfmClientMachine>
  readonly #link: ClientLink

  constructor(device: FgfmIdentity, settings: CentralManagementSettings, context: DeviceContext) {
    this.settings = settings
    const machine = fgfmClientMachine.provide({
      actors: { connect: fromPromise<void>(({ signal }) => this.#connect(signal)) },
      actions: {
        sendRegister: ({ context: c }) => this.#write({
          type: "register",
          serialno: device.serial,
          hostname: device.hostname,
          platform: device.platform,
          version: device.version,
          keepaliveInterval: wireSeconds(c.keepaliveIntervalMs),
          sockTimeout: wireSeconds(c.sockTimeoutMs)
        }),
        sendKeepalive: () => this.#write({ type: "keepalive", serialno: device.serial }),
        sendClose: ({ context: c }) => this.#write({ type: "close", reason: c.reason }),
        closeLink: () => this.#link.drop()
      }
    })
    this.#actor = createActor(machine, {
      input: {
        keepaliveIntervalMs: settings.keepaliveInterval,
        sockTimeoutMs: settings.sockTimeout,
        connectTimeoutMs: settings.connectTimeout,
        retryIntervalMs: settings.retryInterval
      },
      clock: context.clock
    })
    this.#link = new ClientLink({ context, device, machine: this.#actor })
    // A change of phase, or of the FortiManager's verdict while registered, is an event.
    let last = "disconnected"
    this.#actor.subscribe((snapshot) => {
      const phase = fgfmClientPhase(snapshot)
      const key = phase === "registered" ? `${phase} ${snapshot.context.authorization}` : phase
      if (key === last) return
      last = key
      context.bus.publish({ type: "fgfm-link", device: device.id, manager: settings.fmg, state: phase, reason: snapshot.context.reason })
    })
    this.#actor.start()
  }

  phase(): FgfmClientPhase {
    return fgfmClientPhase(this.#actor.getSnapshot())
  }

  snapshot(): FgfmClientSnapshot {
    return this.#actor.getSnapshot()
  }

  start(): void {
    this.#actor.send({ type: "START" })
  }

  /** Clean stop: request=close to the FortiManager. */
  stop(): void {
    this.#actor.send({ type: "STOP" })
  }

  /** Abrupt stop: the link is cut with no goodbye. */
  kill(): void {
    this.#link.cut()
    this.#actor.send({ type: "STOP" })
  }

  dispose(): void {
    this.kill()
    this.#actor.stop()
  }

  #write(message: FgfmMessage): void {
    this.#link.write(encodeFgfm(message))
  }

  async #connect(signal: AbortSignal): Promise<void> {
    const socket = await this.#link.dial({
      protocol: "FGFM",
      server: this.settings.fmg,
      port: FGFM_PORT,
      timeoutMs: this.settings.connectTimeout,
      tls: { encAlgorithm: TLS_LEVELS[this.settings.encAlgorithm], sslMinProtoVersion: "default" }
    }, signal)
    const decoder = new FgfmDecoder({ maxMessageBytes: FGFM_DEFAULT_MAX_MESSAGE_BYTES })
    this.#link.attach(socket, {
      read: (chunk) => {
        const result = decoder.push(chunk)
        for (const message of result.messages) this.#receive(message)
        return result.error
      },
      peerClosed: "the FortiManager closed the connection",
      badInput: (error) => `bad FGFM message from the FortiManager: ${error.code} (${error.detail})`
    })
  }

  #receive(message: FgfmMessage): void {
    // Messages still in flight when the device was disposed have nobody to go to.
    if (this.#actor.getSnapshot().status !== "active") return
    this.#actor.send({ type: "RECEIVED" })
    switch (message.type) {
      case "register-reply": {
        const { type: _, ...reply } = message
        this.#actor.send({ type: "REGISTER_REPLY", ...reply })
        break
      }
      case "status":
        this.#actor.send({ type: "STATUS", status: message.status })
        break
      case "error":
        this.#actor.send({ type: "ERROR_MESSAGE", code: message.code, reason: message.reason })
        break
      case "close":
        this.#actor.send({ type: "LINK_LOST", reason: `the FortiManager closed the session: ${message.reason}` })
        break
      default:
        break
    }
  }
}
