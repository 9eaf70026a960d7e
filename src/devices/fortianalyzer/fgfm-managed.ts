/**
 * A FortiAnalyzer managed by a FortiManager (the vendor table's "FortiManager → FortiAnalyzer,
 * Management, TCP/541"). Like every FortiAnalyzer, the analyzer listens for FGFM on TCP/541 (TLS
 * with its certificate, CN = its serial); a FortiManager that adds it (Device Manager → Add
 * Device, by address) connects there and sends `request=discover`. The analyzer then registers
 * over that link like a FortiGate (`shared/fgfm-device-link.ts`): serial, hostname, platform,
 * version and its timers, keepalives every `keepalive_interval`.
 *
 * One session at a time: another FortiManager's discover while a session is up gets
 * `reply=error duplicate-session`. A link that sends anything but `request=discover` first gets
 * `reply=error discover-required`, one that sends nothing within the handshake timeout
 * `discover-timeout`. Each refused link, and each failed TLS handshake, is counted by code
 * (`refused`) and published as `connection-closed` on TCP/541 with why. The analyzer never dials: when its session ends, the FortiManager connects
 * again. The messages are fazlab's (docs/protocols/fgfm.md).
 */
import type * as net from "node:net"
import type * as tls from "node:tls"
import { FGFM_CLIENT_DEFAULT_TIMERS } from "../../machines/fgfm-client.ts"
import { peerOf } from "../../net/tcp.ts"
import { type TlsHandshakeError, upgradeToTls } from "../../net/tls.ts"
import { encodeFgfm, FGFM_DEFAULT_MAX_MESSAGE_BYTES, type FgfmErrorCode, FgfmDecoder } from "../../protocols/fgfm/frames.ts"
import type { DeviceContext } from "../device.ts"
import { FGFM_PORT, FgfmDeviceLink, type FgfmIdentity } from "../shared/fgfm-device-link.ts"
import { endGracefully } from "../shared/tls-sessions.ts"

/** From TCP accept to the end of the TLS handshake, and from there to `request=discover`. */
const DISCOVER_TIMEOUT_MS = 10_000

export interface FgfmManagedOptions {
  readonly identity: FgfmIdentity
  /** Server options with the analyzer's certificate (`serverTlsOptions`). */
  readonly tls: tls.TlsOptions
  readonly context: DeviceContext
}

export class FgfmManaged {
  readonly #options: FgfmManagedOptions
  #session: FgfmDeviceLink | null = null
  /** Links refused, by code: an FGFM error code, or `handshake-failed` / `handshake-timeout` for TLS. */
  readonly refused = new Map<string, number>()

  constructor(options: FgfmManagedOptions) {
    this.#options = options
  }

  /** The FortiManager's session, while one is up. */
  get session(): FgfmDeviceLink | null {
    return this.#session
  }

  /** An accepted TCP/541 connection: TLS, then `request=discover`, then the analyzer registers. */
  accept(socket: net.Socket): void {
    const peer = peerOf(socket)
    upgradeToTls(socket, { tls: this.#options.tls, handshakeTimeoutMs: DISCOVER_TIMEOUT_MS }).then(
      (secure) => this.#awaitDiscover(secure, peer),
      (error: TlsHandshakeError) => this.#refused(peer, error.code === "handshake-timeout" ? "handshake-timeout" : "handshake-failed", error.message)
    )
  }

  /** Counts a refused link and says why, as the listener's other closings are said. */
  #refused(peer: string, code: string, reason: string): void {
    this.refused.set(code, (this.refused.get(code) ?? 0) + 1)
    this.#options.context.bus.publish({ type: "connection-closed", device: this.#options.identity.id, port: FGFM_PORT, peer, reason: `FGFM refused (${code}): ${reason}` })
  }

  #awaitDiscover(secure: tls.TLSSocket, peer: string): void {
    const { clock } = this.#options.context
    const decoder = new FgfmDecoder({ maxMessageBytes: FGFM_DEFAULT_MAX_MESSAGE_BYTES })
    const refuse = (code: FgfmErrorCode, reason: string) => {
      this.#refused(peer, code, reason)
      secure.off("data", onData)
      secure.write(encodeFgfm({ type: "error", code, reason }))
      endGracefully(secure)
    }
    const timer = clock.setTimeout(() => refuse("discover-timeout", `no request=discover within ${DISCOVER_TIMEOUT_MS / 1000} s`), DISCOVER_TIMEOUT_MS)
    const onData = (chunk: Buffer) => {
      const { messages, error } = decoder.push(chunk)
      const first = messages[0]
      if (first === undefined && error === undefined) return
      clock.clearTimeout(timer)
      secure.off("data", onData)
      if (error !== undefined) refuse(error.code, error.detail)
      else if (first?.type !== "discover") refuse("discover-required", "a FortiManager that connects to a FortiAnalyzer starts with request=discover")
      else if (this.#session !== null) refuse("duplicate-session", `${this.#options.identity.id} is already managed over another FGFM session`)
      else this.#register(secure, first.fmgSerialno)
    }
    secure.on("data", onData)
    secure.on("error", () => undefined)
    secure.once("close", () => clock.clearTimeout(timer))
  }

  /** The analyzer's side of the session, over the link the FortiManager opened. */
  #register(secure: tls.TLSSocket, managerSerial: string): void {
    const session = new FgfmDeviceLink(this.#options.identity, {
      manager: managerSerial,
      timers: FGFM_CLIENT_DEFAULT_TIMERS,
      open: () => Promise.resolve(secure),
      once: true
    }, this.#options.context)
    this.#session = session
    secure.once("close", () => {
      if (this.#session === session) this.#session = null
    })
    session.start()
  }

  /** Clean stop: request=close to the FortiManager. */
  stop(): void {
    this.#session?.stop()
    this.#session = null
  }

  /** Crash: the link is cut. */
  dispose(): void {
    this.#session?.dispose()
    this.#session = null
  }
}
