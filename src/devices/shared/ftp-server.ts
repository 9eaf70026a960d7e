/**
 * An FTP server (RFC 959) that a device puts behind its TCP/21 listener: the file server's
 * upload service, and any device that must take files over FTP (a FortiRecorder's cameras
 * upload to the analyzer's TCP/21). Built on `ftp-srv`, the FTP server library of the Node
 * ecosystem (pure JavaScript, passive and active mode, the usual command set with `LIST`,
 * `STOR`, `RETR`, `MKD`, `DELE`, `SIZE`); it keeps the files under a folder on disk.
 *
 * How to use it (see `devices/file-server/file-server.ts`):
 *
 * ```ts
 * const ftp = new FtpService({ address: plan.addressOf(id), root: folder, authenticate, onLogin, onStored })
 * // in the device's bind step, with the lab's TCP listener (its connection rules apply):
 * yield* listenTcp({ ..., port: "tcp/21", onConnection: (socket) => ftp.connection(socket) })
 * // in its halt step:
 * ftp.close()
 * ```
 *
 * - The control connection comes from the caller's listener (`connection(socket)`), so the lab's
 *   port plan and connection limits apply to TCP/21 as to every other port.
 * - Passive mode (`PASV`, `EPSV`): a data listener per transfer on `address`, on a port the
 *   kernel picks (the reply names it), accepting the control connection's peer only.
 * - Active mode (`PORT`, `EPRT`): the server dials the client's data port from a port the kernel
 *   picks, to the control connection's own address only. It does not send from TCP/20: a second
 *   listener-independent bind on one source port per transfer cannot be shared by parallel
 *   transfers from Node, and nothing the lab checks depends on the source port.
 * - Users: `authenticate(user, password)` returns (or promises) null to let a user in, or the sentence that
 *   says why not (the client reads `530`); each attempt is said through `onLogin`.
 * - Each file stored (`STOR`, `APPE`) is said through `onStored` with its path under the root and
 *   its size; a store that failed (a full disk, a path outside the root) with its reason.
 *
 * `ftp-srv` installs SIGTERM/SIGINT/SIGQUIT handlers that exit the process; they are taken off at
 * once, since the lab owns its process's signals (`fazlab up` stops its devices cleanly first).
 * Its own logging (bunyan) is replaced by a silent logger: what matters is said as lab events.
 */
import * as fs from "node:fs/promises"
import type * as net from "node:net"
import * as path from "node:path"
import { FtpSrv } from "ftp-srv"

export interface FtpLogin {
  readonly user: string
  readonly peer: string
  readonly ok: boolean
  /** Why a login was refused, in a sentence; the method for one that was let in. */
  readonly reason: string
}

export interface FtpStored {
  readonly user: string
  readonly peer: string
  /** Where the file is under the root, with a leading slash. */
  readonly path: string
  readonly bytes: number
}

export interface FtpStoreFailed {
  readonly user: string
  readonly peer: string
  readonly reason: string
}

export interface FtpServiceOptions {
  /** The address the control listener is bound on; passive data listeners bind there too. */
  readonly address: string
  /** The folder every user sees as `/` (created when missing). */
  readonly root: string
  /** null lets the user in; otherwise the sentence saying why not. */
  readonly authenticate: (user: string, password: string) => string | null | Promise<string | null>
  readonly onLogin: (login: FtpLogin) => void
  readonly onStored: (stored: FtpStored) => void
  readonly onStoreFailed: (failed: FtpStoreFailed) => void
}

const SIGNALS = ["SIGTERM", "SIGINT", "SIGQUIT"] as const

/**
 * Builds with Node's `url.parse()` deprecation warning (DEP0169) left out: `ftp-srv` parses its
 * own URL with it, and Node would print the warning on stderr once per process, in every lab
 * with an analyzer, about a library's internals the user can do nothing about (and `fazlab up
 * --headless` promises JSON lines only). Any other warning goes through.
 */
const withoutUrlParseWarning = <T>(build: () => T): T => {
  const emitWarning = process.emitWarning
  process.emitWarning = ((warning: string | Error, ...rest: Array<unknown>) => {
    const code = typeof rest[0] === "object" && rest[0] !== null ? (rest[0] as { code?: unknown }).code : rest[1]
    if (code === "DEP0169") return
    Reflect.apply(emitWarning, process, [warning, ...rest])
  }) as typeof process.emitWarning
  try {
    return build()
  } finally {
    process.emitWarning = emitWarning
  }
}

/** bunyan's interface, saying nothing. */
interface SilentLog {
  readonly trace: () => void
  readonly debug: () => void
  readonly info: () => void
  readonly warn: () => void
  readonly error: () => void
  readonly fatal: () => void
  readonly child: () => SilentLog
}
const silent: SilentLog = { trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, fatal: () => undefined, child: () => silent }

export class FtpService {
  readonly #options: FtpServiceOptions
  readonly #server: FtpSrv
  readonly #sockets = new Set<net.Socket>()

  constructor(options: FtpServiceOptions) {
    this.#options = options
    const before = new Map(SIGNALS.map((signal) => [signal, new Set(process.listeners(signal))] as const))
    this.#server = withoutUrlParseWarning(() => new FtpSrv({
      url: `ftp://${options.address}:0`,
      // A function, so the reply names the listener's address even for a client on loopback.
      pasv_url: (() => options.address) as unknown as string,
      // Port 0 both ends: every passive data listener gets a port the kernel picks.
      pasv_min: 0,
      pasv_max: 0,
      // "FTP" in the greeting is what lets nmap -sV and other scanners name the service.
      greeting: "fazlab FTP server",
      anonymous: false,
      log: silent
    }))
    for (const signal of SIGNALS) {
      for (const listener of process.listeners(signal)) if (!before.get(signal)?.has(listener)) process.off(signal, listener)
    }
    this.#server.on("client-error", () => undefined)
    this.#server.on("login", ({ connection, username, password }, resolve, reject) => {
      const peer = `${connection.ip}`
      void Promise.resolve(options.authenticate(username, password)).then((refused) => {
        options.onLogin({ user: username, peer, ok: refused === null, reason: refused ?? "password" })
        if (refused !== null) {
          reject(new Error(refused))
          return
        }
        // A connection that logs in again (USER after a login) keeps its one STOR listener.
        connection.removeAllListeners("STOR")
        connection.on("STOR", (error: Error | null, file: string) => {
          if (error !== null) {
            options.onStoreFailed({ user: username, peer, reason: `storing a file for ${username} failed: ${error.message}` })
            return
          }
          void this.#stored(username, peer, file)
        })
        fs.mkdir(options.root, { recursive: true }).then(() => resolve({ root: options.root, cwd: "/" }), (cause: unknown) => reject(cause instanceof Error ? cause : new Error(String(cause))))
      })
    })
  }

  async #stored(user: string, peer: string, file: string): Promise<void> {
    const where = `/${path.relative(this.#options.root, file).split(path.sep).join("/")}`
    try {
      const stat = await fs.stat(file)
      this.#options.onStored({ user, peer, path: where, bytes: stat.size })
    } catch (cause) {
      this.#options.onStoreFailed({ user, peer, reason: `${where} from ${user} was stored but cannot be read back: ${cause instanceof Error ? cause.message : String(cause)}` })
    }
  }

  /** Serves a connection accepted on the device's TCP/21 listener. */
  connection(socket: net.Socket): void {
    this.#sockets.add(socket)
    socket.once("close", () => this.#sockets.delete(socket))
    // ftp-srv's declarations leave out its net.Server; its connection handler is where a socket starts.
    ;(this.#server as unknown as { readonly server: net.Server }).server.emit("connection", socket)
  }

  /** Ends every session and its data listeners (the control sockets close with the listener's scope too). */
  close(): void {
    for (const socket of this.#sockets) socket.destroy()
    this.#sockets.clear()
  }
}
