/**
 * The device side of a TLS management link, whatever the protocol (a FortiGate's OFTP to an
 * analyzer, its FGFM to a FortiManager): dialing the peer with the device's certificate from the
 * lab CA, and the link's socket wired to the client machine (`machines/oftp-client.ts`,
 * `machines/fgfm-client.ts`). `tls-sessions.ts` is the server side of the same two protocols.
 */
import type * as tls from "node:tls"
import type { PortKey } from "../../events/events.ts"
import type { TlsIdentity } from "../../net/pki.ts"
import { resolveServer } from "../../net/server-address.ts"
import { type ClientTlsSettings, clientTlsOptions, dialTls } from "../../net/tls.ts"
import type { DeviceContext } from "../device.ts"
import { deliver, endGracefully, type SessionRef } from "./tls-sessions.ts"

/** Where and how a device dials its peer. */
export interface LinkTarget {
  /** Names the protocol where a lab without PKI is refused: "OFTP", "FGFM". */
  readonly protocol: string
  /** A device of the lab, or host / host:port outside it. */
  readonly server: string
  /** The peer's documented port, and the port used for a host given without one. */
  readonly port: PortKey
  /** Bounds TCP connect + TLS handshake. */
  readonly timeoutMs: number
  /** The TLS knobs; the lab CA and the device's certificate are added here. */
  readonly tls: Omit<ClientTlsSettings, "caPem" | "identity">
}

/** Why a decoder gave up on the peer's bytes, as the OFTP and FGFM decoders report it. */
export interface LinkDecodeError {
  readonly code: string
  readonly detail: string
}

/** How a link's bytes are read, and the reasons it gives when it is lost. */
export interface LinkReader {
  /** Decodes a chunk and hands its messages on; returns the decoder's error, if it gave up. */
  readonly read: (chunk: Buffer) => LinkDecodeError | undefined
  /** Why the link was lost when the peer closed it: "the analyzer closed the connection". */
  readonly peerClosed: string
  /** Why the link was lost when the decoder gave up on the peer's bytes. */
  readonly badInput: (error: LinkDecodeError) => string
}

/** How a device dials its peers: from its own lab address, presenting its client certificate. */
export class DeviceDialer {
  readonly #context: DeviceContext
  readonly #device: { readonly id: string; readonly serial: string }
  /** The device's client certificate, issued once by the lab CA. */
  #identity: TlsIdentity | null = null

  constructor(context: DeviceContext, device: { readonly id: string; readonly serial: string }) {
    this.#context = context
    this.#device = device
  }

  /**
   * TCP, then TLS, from the device's own lab address to `target`, presenting the device's client
   * certificate. The caller checks the peer's certificate.
   */
  async dial(target: LinkTarget, signal: AbortSignal): Promise<tls.TLSSocket> {
    const { plan, pki } = this.#context
    if (pki === null) throw new Error(`the lab has no PKI: ${target.protocol} needs TLS`)
    const peer = resolveServer(plan, target.server, target.port)
    const localAddress = plan.sourceAddressOf(this.#device.id)
    this.#identity ??= await pki.issue({ serial: this.#device.serial, role: "client" })
    const identity = this.#identity
    return dialTls({
      host: peer.address,
      port: peer.actualPort,
      timeoutMs: target.timeoutMs,
      signal,
      ...(localAddress === undefined ? {} : { localAddress }),
      tls: clientTlsOptions({ ...target.tls, caPem: pki.caPem, identity })
    })
  }
}

/** A device's link to its peer for one client machine: at most one TLS socket at a time, and LINK_LOST when it goes. */
export class ClientLink {
  readonly #machine: SessionRef<{ readonly type: "LINK_LOST"; readonly reason: string }>
  readonly #dialer: DeviceDialer
  #socket: tls.TLSSocket | null = null

  constructor(options: {
    readonly context: DeviceContext
    readonly device: { readonly id: string; readonly serial: string }
    readonly machine: SessionRef<{ readonly type: "LINK_LOST"; readonly reason: string }>
  }) {
    this.#machine = options.machine
    this.#dialer = new DeviceDialer(options.context, options.device)
  }

  /** TCP, then TLS to `target`, as `DeviceDialer.dial`. The caller checks the peer's certificate, then `attach`es the socket. */
  dial(target: LinkTarget, signal: AbortSignal): Promise<tls.TLSSocket> {
    return this.#dialer.dial(target, signal)
  }

  /** Whether there is a link (it may be closing). */
  get attached(): boolean {
    return this.#socket !== null
  }

  /**
   * Makes `socket` the link: its bytes go to `reader.read`, and a decoder error destroys it. When
   * it closes while it is still the link, a running machine gets LINK_LOST with why: the peer
   * closed it, it sent bad bytes, or the socket failed.
   */
  attach(socket: tls.TLSSocket, reader: LinkReader): void {
    this.#socket = socket
    let lostReason = reader.peerClosed
    socket.on("data", (chunk: Buffer) => {
      const error = reader.read(chunk)
      if (error !== undefined) {
        lostReason = reader.badInput(error)
        socket.destroy()
      }
    })
    socket.on("error", (error) => {
      lostReason = `connection lost: ${error.message}`
    })
    socket.on("close", () => {
      if (this.#socket === socket) {
        this.#socket = null
        deliver(this.#machine, { type: "LINK_LOST", reason: lostReason })
      }
    })
  }

  /** Writes on the link; says whether it could (there is none, or it is gone). */
  write(bytes: Uint8Array): boolean {
    const socket = this.#socket
    if (socket === null || socket.destroyed) return false
    socket.write(bytes)
    return true
  }

  /** Lets the link go: what was written last still reaches the peer (`endGracefully`). */
  drop(): void {
    const socket = this.#socket
    this.#socket = null
    if (socket !== null) endGracefully(socket)
  }

  /** Cuts the link with no goodbye; its closing is then LINK_LOST as any other. */
  cut(): void {
    this.#socket?.destroy()
  }
}
