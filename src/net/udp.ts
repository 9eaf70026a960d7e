/**
 * Effect-scoped UDP listeners and senders, on dgram-as-promised.
 *
 * `listenUdp` binds when acquired (with a large receive buffer: the kernel drops datagrams a
 * slow reader has no room for) and closes when its scope closes. Messages are delivered to
 * `onMessage` from the socket's own event, the fastest path Node offers.
 */
import type { RemoteInfo } from "node:dgram"
import { isIPv6 } from "node:net"
import DgramAsPromised, { type SocketAsPromised } from "dgram-as-promised"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type { PortKey } from "../events/events.ts"
import { type BindError, bindError } from "./errors.ts"

export interface UdpListenOptions {
  readonly device: string
  readonly port: PortKey
  readonly host: string
  readonly actualPort: number
  /** SO_RCVBUF in bytes; the kernel may cap it (net.core.rmem_max). */
  readonly receiveBufferBytes: number
  readonly onMessage: (message: Buffer, peer: RemoteInfo) => void
}

export interface UdpListener {
  readonly address: string
  readonly actualPort: number
  /** The receive buffer the kernel actually granted. */
  readonly receiveBufferBytes: number
}

/** A bound UDP socket that can also answer. */
export interface UdpServer extends UdpListener {
  /** Sends a datagram from the listening socket (a DNS server answers so: from the port it was asked on). */
  readonly send: (bytes: Uint8Array, port: number, address: string) => void
}

export const listenUdp = (options: UdpListenOptions): Effect.Effect<UdpServer, BindError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: async () => {
        const socket = DgramAsPromised.createSocket(
          { type: isIPv6(options.host) ? "udp6" : "udp4", recvBufferSize: options.receiveBufferBytes },
          options.onMessage
        )
        try {
          await socket.bind({ port: options.actualPort, address: options.host, exclusive: true })
        } catch (cause) {
          await socket.close().catch(() => undefined)
          throw cause
        }
        socket.socket.on("error", () => undefined)
        return socket
      },
      catch: (cause) => bindError(options, cause)
    }),
    (socket) => Effect.promise(() => socket.close())
  ).pipe(
    Effect.map((socket): UdpServer => {
      const address = socket.socket.address()
      return {
        address: address.address,
        actualPort: address.port,
        receiveBufferBytes: socket.socket.getRecvBufferSize(),
        send: (bytes, port, to) => socket.socket.send(bytes, port, to)
      }
    })
  )

/** An unconnected UDP socket for sending, bound to `localAddress` when given. Caller closes it. */
export const openUdpSender = async (options: { readonly host: string; readonly localAddress?: string; readonly sendBufferBytes?: number }): Promise<SocketAsPromised> => {
  const socket = DgramAsPromised.createSocket({
    type: isIPv6(options.host) ? "udp6" : "udp4",
    ...(options.sendBufferBytes === undefined ? {} : { sendBufferSize: options.sendBufferBytes })
  })
  socket.socket.on("error", () => undefined)
  await socket.bind(options.localAddress === undefined ? {} : { address: options.localAddress })
  return socket
}
