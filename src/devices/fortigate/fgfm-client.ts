/**
 * A FortiGate's `config system central-management` (type fortimanager): the FGFM link to a
 * FortiManager on TCP/541. It registers (serial, hostname, platform, version and the timers it
 * wants), keeps the session alive every `keepalive-interval`, gives it up after `sock-timeout`
 * of silence and retries after `retry-interval`.
 *
 * The session itself is `machines/fgfm-client.ts`; this module supplies its I/O: TCP + TLS
 * (certificate chained to the lab CA, the FortiOS `enc-algorithm` levels), FGFM messages in and
 * out, and `fgfm-link` events.
 */
import type * as tls from "node:tls"
import { type Actor, createActor, fromPromise } from "xstate"
import type { PortKey } from "../../events/events.ts"
import { fgfmClientMachine, fgfmClientPhase, type FgfmClientPhase, type FgfmClientSnapshot } from "../../machines/fgfm-client.ts"
import { resolveServer } from "../../net/server-address.ts"
import { clientTlsOptions, dialTls, type EncAlgorithm } from "../../net/tls.ts"
import { encodeFgfm, FGFM_DEFAULT_MAX_MESSAGE_BYTES, FgfmDecoder, type FgfmMessage } from "../../protocols/fgfm/frames.ts"
import type { DeviceContext } from "../device.ts"

/** `config system central-management` as fazlab reads it. Times in milliseconds. */
export interface CentralManagementSettings {
  /** `fmg`: a FortiManager of the lab, or host / host:port outside it. */
  readonly fmg: string
  /** FortiOS `enc-algorithm`: default (high and medium suites), high or low. */
  readonly encAlgorithm: "default" | "high" | "low"
  /** FGFM `keepalive_interval` this FortiGate asks for. */
  readonly keepaliveInterval: number
  /** FGFM `sock_timeout` this FortiGate asks for. */
  readonly sockTimeout: number
  /** fazlab's: bounds connect + TLS + register reply. */
  readonly connectTimeout: number
  /** fazlab's: the wait between a failure and the next attempt. */
  readonly retryInterval: number
}

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
  readonly #device: FgfmIdentity
  readonly #context: DeviceContext
  readonly #actor: Actor<typeof fgfmClientMachine>
  #socket: tls.TLSSocket | null = null

  constructor(device: FgfmIdentity, settings: CentralManagementSettings, context: DeviceContext) {
    this.#device = device
    this.settings = settings
    this.#context = context
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
        closeLink: () => this.#dropLink()
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
    this.#socket?.destroy()
    this.#actor.send({ type: "STOP" })
  }

  dispose(): void {
    this.kill()
    this.#actor.stop()
  }

  #write(message: FgfmMessage): void {
    const socket = this.#socket
    if (socket !== null && !socket.destroyed) socket.write(encodeFgfm(message))
  }

  #dropLink(): void {
    const socket = this.#socket
    this.#socket = null
    if (socket !== null && !socket.destroyed) {
      socket.end()
      setTimeout(() => socket.destroy(), 1000).unref()
    }
  }

  async #connect(signal: AbortSignal): Promise<void> {
    const { plan, pki } = this.#context
    if (pki === null) throw new Error("the lab has no PKI: FGFM needs TLS")
    const target = resolveServer(plan, this.settings.fmg, FGFM_PORT)
    const localAddress = plan.sourceAddressOf(this.#device.id)
    const identity = await pki.issue({ serial: this.#device.serial, role: "client" })
    const socket = await dialTls({
      host: target.address,
      port: target.actualPort,
      timeoutMs: this.settings.connectTimeout,
      signal,
      ...(localAddress === undefined ? {} : { localAddress }),
      tls: clientTlsOptions({ caPem: pki.caPem, encAlgorithm: TLS_LEVELS[this.settings.encAlgorithm], sslMinProtoVersion: "default", identity })
    })
    this.#attach(socket)
  }

  #attach(socket: tls.TLSSocket): void {
    this.#socket = socket
    const decoder = new FgfmDecoder({ maxMessageBytes: FGFM_DEFAULT_MAX_MESSAGE_BYTES })
    let lostReason = "the FortiManager closed the connection"
    socket.on("data", (chunk: Buffer) => {
      const result = decoder.push(chunk)
      for (const message of result.messages) this.#receive(message)
      if (result.error !== undefined) {
        lostReason = `bad FGFM message from the FortiManager: ${result.error.code} (${result.error.detail})`
        socket.destroy()
      }
    })
    socket.on("error", (error) => {
      lostReason = `connection lost: ${error.message}`
    })
    socket.on("close", () => {
      if (this.#socket === socket) {
        this.#socket = null
        if (this.#actor.getSnapshot().status === "active") this.#actor.send({ type: "LINK_LOST", reason: lostReason })
      }
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
