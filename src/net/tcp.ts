/**
 * Effect-scoped TCP listeners and a promise-based TCP dialer.
 *
 * `listenTcp` binds when acquired and, when its scope closes, stops accepting, destroys every
 * open connection and waits for the server to close: starting and stopping a lab any number
 * of times leaks no handle. A connection over `maxConnections` is refused (destroyed at once)
 * and reported through `onRefused`, so one noisy peer cannot exhaust the process.
 */
import * as net from "node:net"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type { PortKey } from "../events/events.ts"
import { type BindError, bindError, DialError, errorCode } from "./errors.ts"

export interface TcpListenOptions {
  readonly device: string
  readonly port: PortKey
  readonly host: string
  readonly actualPort: number
  readonly maxConnections: number
  /** The setting that raises `maxConnections`, as the refusal names it ("devices.faz-1.syslog.max-connections"). */
  readonly limitName?: string
  readonly onConnection: (socket: net.Socket) => void
  readonly onRefused?: (peer: string, reason: string) => void
}

export interface TcpListener {
  readonly address: string
  readonly actualPort: number
  /** Open connections right now. */
  readonly connections: () => number
  /** Connections refused because `maxConnections` were open. */
  readonly refused: () => number
}

export const peerOf = (socket: net.Socket): string => `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? 0}`

export const listenTcp = (options: TcpListenOptions): Effect.Effect<TcpListener, BindError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.callback<{ server: net.Server; sockets: Set<net.Socket>; refused: () => number }, BindError>((resume) => {
      const sockets = new Set<net.Socket>()
      let refused = 0
      const server = net.createServer({ noDelay: true }, (socket) => {
        if (sockets.size >= options.maxConnections) {
          refused++
          options.onRefused?.(peerOf(socket), `max-connections ${options.maxConnections} reached; raise ${options.limitName ?? "the listener's max-connections"} to allow more`)
          socket.destroy()
          return
        }
        sockets.add(socket)
        socket.once("close", () => sockets.delete(socket))
        // A peer that resets before the handler reads anything must not crash the process.
        socket.on("error", () => undefined)
        options.onConnection(socket)
      })
      const onError = (cause: unknown) => {
        server.close()
        resume(Effect.fail(bindError(options, cause)))
      }
      server.once("error", onError)
      server.listen({ host: options.host, port: options.actualPort, exclusive: true, backlog: 1024 }, () => {
        server.off("error", onError)
        // After a successful bind, errors are per-connection; never let one crash the process.
        server.on("error", () => undefined)
        resume(Effect.succeed({ server, sockets, refused: () => refused }))
      })
    }),
    ({ server, sockets }) =>
      Effect.callback<void>((resume) => {
        // Done when the server and every connection have emitted "close", so nothing a
        // connection reports on closing arrives after the listener is gone.
        let pending = sockets.size + 1
        const closed = () => {
          if (--pending === 0) resume(Effect.void)
        }
        for (const socket of sockets) {
          socket.once("close", closed)
          socket.destroy()
        }
        server.close(closed)
      })
  ).pipe(
    Effect.map(({ server, sockets, refused }) => {
      const address = server.address() as net.AddressInfo
      return { address: address.address, actualPort: address.port, connections: () => sockets.size, refused }
    })
  )

export interface TcpDialOptions {
  readonly host: string
  readonly port: number
  /** Local address to dial from (each emulated device may have its own loopback address). */
  readonly localAddress?: string
  readonly timeoutMs: number
  readonly signal?: AbortSignal
}

/** Connects, or rejects with a `DialError` naming the target; the caller owns the socket. */
export const dialTcp = (options: TcpDialOptions): Promise<net.Socket> =>
  new Promise((resolve, reject) => {
    const target = `${options.host}:${options.port}`
    const socket = net.connect({
      host: options.host,
      port: options.port,
      noDelay: true,
      ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress })
    })
    const fail = (code: string, reason: string) => {
      cleanup()
      socket.destroy()
      reject(new DialError({ target, code, reason }))
    }
    const onError = (cause: unknown) => fail(errorCode(cause), cause instanceof Error ? cause.message : String(cause))
    const onTimeout = () => fail("ETIMEDOUT", `no answer within ${options.timeoutMs} ms`)
    const onAbort = () => fail("ABORTED", "dial cancelled")
    const timer = setTimeout(onTimeout, options.timeoutMs)
    const cleanup = () => {
      clearTimeout(timer)
      socket.off("error", onError)
      options.signal?.removeEventListener("abort", onAbort)
    }
    socket.once("error", onError)
    options.signal?.addEventListener("abort", onAbort, { once: true })
    socket.once("connect", () => {
      cleanup()
      resolve(socket)
    })
  })
