/**
 * The device side of an FGFM session (`machines/fgfm-client.ts`) and its I/O: FGFM messages in
 * and out over a TLS link, and `fgfm-link` events. Two devices are managed over FGFM, and they
 * differ only in who opens the link (the `open` option):
 * - a FortiGate (`config system central-management`) dials the FortiManager on TCP/541, retrying
 *   after `retry-interval` (fortigate/fgfm-client.ts);
 * - a FortiAnalyzer is dialled by a FortiManager that adds it: the FortiManager's
 *   `request=discover` on the analyzer's TCP/541 opens one session
 *   (fortianalyzer/fgfm-managed.ts).
 * Either way the device registers (serial, hostname, platform, version and the timers it wants),
 * keeps the session alive every `keepalive_interval` and gives it up after `sock_timeout` of
 * silence. The link's socket is `client-link.ts`, as for OFTP.
 */
import type * as tls from "node:tls"
import { type Actor, createActor, fromPromise } from "xstate"
import type { PortKey } from "../../events/events.ts"
import { fgfmClientMachine, fgfmClientPhase, type FgfmClientPhase, type FgfmClientSnapshot, type FgfmClientTimers } from "../../machines/fgfm-client.ts"
import { encodeFgfm, FGFM_DEFAULT_MAX_MESSAGE_BYTES, FgfmDecoder, type FgfmMessage } from "../../protocols/fgfm/frames.ts"
import type { DeviceContext } from "../device.ts"
import { ClientLink } from "./client-link.ts"

export interface FgfmIdentity {
  readonly id: string
  readonly serial: string
  readonly hostname: string
  readonly platform: string
  readonly version: string
}

/** The documented FGFM port, and the port used for a host outside the lab given without one. */
export const FGFM_PORT: PortKey = "tcp/541"

/** Seconds on the wire: whole, at least 1. */
const wireSeconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000))

/** How a device's FGFM session is opened, and its timers. */
export interface FgfmLinkOptions {
  /** The FortiManager, as the device's `fgfm-link` events name it. */
  readonly manager: string
  readonly timers: FgfmClientTimers
  /** TCP + TLS to the FortiManager (the link dials), or the connection a FortiManager opened. */
  readonly open: (link: ClientLink, signal: AbortSignal) => Promise<tls.TLSSocket>
  /**
   * One session only: when it is lost the link ends (`disconnected`, with why) instead of
   * retrying. For a link the FortiManager opened: it is the one that connects again.
   */
  readonly once?: boolean
}

export class FgfmDeviceLink {
  readonly #actor: Actor<typeof fgfmClientMachine>
  readonly #link: ClientLink
  readonly #open: FgfmLinkOptions["open"]

  constructor(device: FgfmIdentity, options: FgfmLinkOptions, context: DeviceContext) {
    this.#open = options.open
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
      input: options.timers,
      clock: context.clock
    })
    this.#link = new ClientLink({ context, device, machine: this.#actor })
    // A change of phase, or of the FortiManager's verdict while registered, is an event.
    let last = "disconnected"
    this.#actor.subscribe((snapshot) => {
      const ended = options.once === true && fgfmClientPhase(snapshot) === "retrying"
      const phase = ended ? "disconnected" : fgfmClientPhase(snapshot)
      if (ended) queueMicrotask(() => this.#actor.stop())
      const key = phase === "registered" ? `${phase} ${snapshot.context.authorization}` : phase
      if (key === last) return
      last = key
      context.bus.publish({ type: "fgfm-link", device: device.id, manager: options.manager, state: phase, reason: snapshot.context.reason })
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
    const socket = await this.#open(this.#link, signal)
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
