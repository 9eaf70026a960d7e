/**
 * Effect-scoped TCP listeners and a promise-based TCP dialer.
 *
 * `listenTcp` binds when acquired and, when its scope closes, stops accepting, destroys every
 * open connection and waits for the server to close: starting and stopping a lab any number
 * of times leaks no handle. Every listener enforces the same connection rules (`TcpLimits`,
 * docs/errors.md "Connections a listener closes"), so one host cannot lock others out:
 * - `max-connections`: a connection over the listener's total is refused (destroyed at once);
 * - `max-connections-per-source`: so is one over the total of its source address, which is
 *   below the listener's total, so a flood from one address always leaves room for others;
 * - `first-byte-timeout`: a connection that sends nothing is closed;
 * - `idle-timeout`: a connection its handler marks with `closeWhenIdle` (the analyzer's plain
 *   syslog connections) is closed once it stays silent that long.
 * Each closing is counted by rule on the listener and reported through `onClosed` with one
 * sentence naming the setting; refusals of a rule past the 16th are reported at powers of two
 * only, so a flood cannot flood the event stream too.
 */
import * as net from "node:net"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { type ConnectionRule, isReported, type PortKey, REPORTED_IN_FULL } from "../events/events.ts"
import { type BindError, bindError, DialError, errorCode } from "./errors.ts"

export type TcpRule = ConnectionRule

/** The timers the time limits run on: the lab clock, so `--speed` and a simulated clock apply. */
export interface TcpTimers {
  now(): number
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export interface TcpLimits {
  /** Connections at once. */
  readonly maxConnections: number
  /** Connections at once from one source address (at most `maxConnections`). */
  readonly maxConnectionsPerSource: number
  /** Milliseconds a connection may stay silent from its start; 0: no limit. */
  readonly firstByteTimeoutMs: number
  /** Where the settings live, as the sentences name them ("devices.faz-1.syslog"); null: fixed limits. */
  readonly settings: string | null
}

/** A listener's connection settings as a lab file gives them (`max-connections` ... of docs/scenarios.md). */
export interface ConnectionLimitSettings {
  readonly maxConnections: number
  /** null: the default of `perSourceLimit`. */
  readonly maxConnectionsPerSource: number | null
  /** Milliseconds; 0: no limit. */
  readonly firstByteTimeout: number
}

/**
 * `max-connections-per-source` when a lab file leaves it out (null): a quarter of
 * `max-connections`; with shared addressing all of it, since every lab device then connects from
 * 127.0.0.1 and one source is the whole lab.
 */
export const perSourceLimit = (configured: number | null, maxConnections: number, addressing: "shared" | "per-device"): number =>
  Math.min(maxConnections, configured ?? (addressing === "shared" ? maxConnections : Math.max(1, Math.floor(maxConnections / 4))))

/** The limits of a listener whose settings live at `settings` ("devices.faz-1.syslog"). */
export const tcpLimits = (configured: ConnectionLimitSettings, addressing: "shared" | "per-device", settings: string | null): TcpLimits => ({
  maxConnections: configured.maxConnections,
  maxConnectionsPerSource: perSourceLimit(configured.maxConnectionsPerSource, configured.maxConnections, addressing),
  firstByteTimeoutMs: configured.firstByteTimeout,
  settings
})

/** What a connection's handler may ask of its listener. */
export interface TcpConnectionGuard {
  /**
   * Close the connection once it stays silent for `ms` (lab time); 0: never. `setting` names the
   * limit ("devices.faz-1.syslog.idle-timeout"). For a plain stream read with "data" listeners only
   * (not one a TLS socket wraps).
   */
  closeWhenIdle(ms: number, setting: string): void
}

export interface TcpListenOptions {
  readonly device: string
  readonly port: PortKey
  readonly host: string
  readonly actualPort: number
  readonly limits: TcpLimits
  readonly timers: TcpTimers
  readonly onConnection: (socket: net.Socket, guard: TcpConnectionGuard) => void
  /**
   * A connection refused or closed by a rule, with its sentence; `report` is false for the
   * refusals past the 16th of a rule that are not at a power of two (count them, publish nothing).
   */
  readonly onClosed?: (closed: ClosedConnection) => void
}

export interface ClosedConnection {
  readonly peer: string
  readonly rule: TcpRule
  readonly reason: string
  readonly report: boolean
}

export interface TcpListener {
  readonly address: string
  readonly actualPort: number
  /** Open connections right now. */
  readonly connections: () => number
  /** Connections refused or closed, by rule, since the listener opened. */
  readonly closedBy: () => Readonly<Record<TcpRule, number>>
}

export const peerOf = (socket: net.Socket): string => `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? 0}`

const seconds = (ms: number): string => `${ms / 1000} s`

/** How to get more of `setting`: the setting to raise, or that the limit is fixed. */
const raise = (limits: TcpLimits, setting: string, more: string): string =>
  limits.settings === null ? `this listener's ${setting} is fixed` : `raise ${limits.settings}.${setting} to allow more${more}`

interface Guarded {
  readonly server: net.Server
  readonly sockets: Set<net.Socket>
  readonly closedBy: () => Readonly<Record<TcpRule, number>>
}

export const listenTcp = (options: TcpListenOptions): Effect.Effect<TcpListener, BindError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.callback<Guarded, BindError>((resume) => {
      const { limits, timers } = options
      const sockets = new Set<net.Socket>()
      const perSource = new Map<string, number>()
      const counts: Record<TcpRule, number> = { "max-connections": 0, "max-connections-per-source": 0, "first-byte-timeout": 0, "idle-timeout": 0 }
      const close = (socket: net.Socket, rule: TcpRule, reason: string) => {
        const n = ++counts[rule]
        const report = isReported(n)
        options.onClosed?.({
          peer: peerOf(socket),
          rule,
          reason: n <= REPORTED_IN_FULL ? reason : `${reason} (${n} connections closed by ${rule} on this port so far; past ${REPORTED_IN_FULL}, reported at powers of two)`,
          report
        })
        socket.destroy()
      }
      /** Runs `check` after `ms` of lab time while the socket is open; it returns the next delay, or null to stop. */
      const after = (socket: net.Socket, ms: number, check: () => number | null) => {
        let timer: unknown = null
        const arm = (delay: number) => {
          timer = timers.setTimeout(() => {
            timer = null
            const next = socket.destroyed ? null : check()
            if (next !== null) arm(next)
          }, delay)
        }
        socket.once("close", () => {
          if (timer !== null) timers.clearTimeout(timer)
        })
        arm(ms)
      }
      const server = net.createServer({ noDelay: true }, (socket) => {
        // A peer that resets before the handler reads anything must not crash the process.
        socket.on("error", () => undefined)
        if (sockets.size >= limits.maxConnections) {
          return close(socket, "max-connections", `max-connections ${limits.maxConnections} reached; ${raise(limits, "max-connections", "")}`)
        }
        const source = socket.remoteAddress ?? "?"
        const fromSource = perSource.get(source) ?? 0
        if (fromSource >= limits.maxConnectionsPerSource) {
          return close(
            socket,
            "max-connections-per-source",
            `max-connections-per-source ${limits.maxConnectionsPerSource} reached for ${source}; ${raise(limits, "max-connections-per-source", " from one address")}`
          )
        }
        sockets.add(socket)
        perSource.set(source, fromSource + 1)
        socket.once("close", () => {
          sockets.delete(socket)
          const left = (perSource.get(source) ?? 1) - 1
          if (left === 0) perSource.delete(source)
          else perSource.set(source, left)
        })
        // Whether a byte came is read off the socket's own count: no listener is added, so the
        // handler (a TLS upgrade included) reads the stream as if nothing watched it.
        if (limits.firstByteTimeoutMs > 0) {
          after(socket, limits.firstByteTimeoutMs, () => {
            if (socket.bytesRead === 0) {
              close(socket, "first-byte-timeout", `sent nothing within first-byte-timeout ${seconds(limits.firstByteTimeoutMs)} of connecting; closed to free its connection slot`)
            }
            return null
          })
        }
        options.onConnection(socket, {
          closeWhenIdle: (ms, setting) => {
            if (ms <= 0) return
            // Only for a plain stream its handler reads with "data" listeners: one more changes nothing.
            let heard = timers.now()
            socket.on("data", () => (heard = timers.now()))
            after(socket, ms, () => {
              const silent = timers.now() - heard
              if (silent < ms) return ms - silent
              close(socket, "idle-timeout", `sent nothing for idle-timeout ${seconds(ms)}; closed (raise ${setting}, or 0s to keep quiet connections)`)
              return null
            })
          }
        })
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
        resume(Effect.succeed({ server, sockets, closedBy: () => ({ ...counts }) }))
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
    Effect.map(({ server, sockets, closedBy }) => {
      const address = server.address() as net.AddressInfo
      return { address: address.address, actualPort: address.port, connections: () => sockets.size, closedBy }
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

/**
 * Connects, or rejects with a `DialError` naming the target; the caller owns the socket. A signal
 * that is already aborted dials nothing (an abort event never comes for it).
 */
export const dialTcp = (options: TcpDialOptions): Promise<net.Socket> =>
  new Promise((resolve, reject) => {
    const target = `${options.host}:${options.port}`
    if (options.signal?.aborted === true) return reject(new DialError({ target, code: "ABORTED", reason: "dial cancelled" }))
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
