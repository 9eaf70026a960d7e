/**
 * The lab's live control channel: a WebSocket server on loopback that sends each client a
 * snapshot, then the lab's event stream, and runs the commands it receives.
 *
 * Access needs the token (`Authorization: Bearer <token>` or `?token=`); anything else is
 * refused during the HTTP upgrade with 401 and a reason. Each client has a bounded outbox
 * (see outbox.ts): a client that falls behind gets `dropped` and is closed, and the lab never
 * waits for it. `serveControl` is scoped: closing its scope closes every client and the server
 * and removes control.json and control.token.
 *
 * The channel listens twice: on loopback (TCP) and on a Unix socket (`unixSocket` in
 * control.json), which device nodes in network namespaces dial (`ws+unix:`): no firewall rule
 * of a lab sees it. A client that says `node-hello` is a device node: the lab then sends it
 * `request`s and the server matches its `answer`s to them.
 */
import * as fs from "node:fs"
import * as http from "node:http"
import * as os from "node:os"
import * as path from "node:path"
import type * as stream from "node:stream"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { WebSocket, WebSocketServer } from "ws"
import { errorCode } from "../net/errors.ts"
import {
  type ControlBind,
  controlUrl,
  DEFAULT_CONTROL_BIND,
  newToken,
  presentedToken,
  removeControlFiles,
  TOKEN_FILE,
  tokenMatches,
  writeControlFiles
} from "./access.ts"
import { commandEffect } from "./commands.ts"
import { type Backlog, Outbox, type OutboxLimits } from "./outbox.ts"
import {
  type AnswerMessage,
  type ControlCommand,
  decodeClientMessage,
  droppedMessage,
  errorReply,
  eventMessage,
  type NodeRequest,
  okReply,
  PROTOCOL_VERSION,
  requestMessage
} from "./protocol.ts"
import { type ControlTarget, type NodeLink, snapshotOf } from "./target.ts"

export interface ControlLimits extends OutboxLimits {
  /**
   * The largest message a client may send on loopback; a larger one closes the connection (1009).
   * On the Unix socket (the lab's user only: device nodes, whose answers carry stored logs) 16 MiB.
   */
  readonly maxCommandBytes: number
  /** How long a dropped or closing client has to finish the close handshake before its socket is cut. */
  readonly closeGraceMs: number
}

export const DEFAULT_CONTROL_LIMITS: ControlLimits = {
  maxQueuedMessages: 10_000,
  maxQueuedChars: 32 * 1024 * 1024,
  highWaterBytes: 1024 * 1024,
  maxCommandBytes: 64 * 1024,
  closeGraceMs: 2000
}

export interface ControlServerOptions {
  /** The lab's data folder (control.json and control.token go there), or null for an in-memory lab. */
  readonly dataDir: string | null
  /** Default 127.0.0.1 on a kernel-chosen port. */
  readonly bind?: ControlBind
  readonly limits?: Partial<ControlLimits>
  /** The token clients must present; default a new random one (a container lab shares one through its environment). */
  readonly token?: string
}

export interface ControlServer {
  /** ws://host:port/ (without the token). */
  readonly url: string
  /** The Unix socket the channel listens on too (`ws+unix:<path>:/`). */
  readonly unixSocket: string
  readonly token: string
  /** Clients connected now, and clients dropped for falling behind since the server started. */
  stats(): { readonly clients: number; readonly dropped: number }
}

export class ControlBindError extends Schema.TaggedError<ControlBindError>()("ControlBindError", {
  host: Schema.String,
  port: Schema.Number,
  code: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `the control channel cannot listen on ${this.host}:${this.port}: ${this.reason}`
  }
}

/** Close codes the server uses (docs/control.md). */
export const CloseCode = { LabStopped: 1001, FellBehind: 1008 } as const

const explainListenFailure = (code: string): string => {
  switch (code) {
    case "EADDRINUSE":
      return "the port is in use by another program; pick another with --control-bind HOST:PORT (port 0 lets the system choose)"
    case "EACCES":
      return "permission denied (ports below 1024 need root); pick a port above 1024 with --control-bind HOST:PORT"
    case "EADDRNOTAVAIL":
    case "ENOTFOUND":
      return "that address is not on this machine; use 127.0.0.1 or an address of one of its interfaces in --control-bind"
    default:
      return `the operating system refused (${code}); pick another address with --control-bind HOST:PORT`
  }
}

const refuseUpgrade = (socket: stream.Duplex, reason: string): void => {
  const body = `${reason}\n`
  socket.end(
    `HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `Connection: close\r\n\r\n${body}`
  )
}

/** The largest message on the Unix socket. */
const UNIX_MAX_MESSAGE_BYTES = 16 * 1024 * 1024

/** The longest Unix socket path Linux takes (sun_path is 108 bytes with its NUL). */
const MAX_SOCKET_PATH = 107

export const CONTROL_SOCKET = "control.sock"

/** The lab's Unix socket: in its data folder, or in the temp folder when there is none or its path is too long. */
const socketPath = (dataDir: string | null): string => {
  const inData = dataDir === null ? null : path.join(dataDir, CONTROL_SOCKET)
  return inData !== null && Buffer.byteLength(inData) <= MAX_SOCKET_PATH
    ? inData
    : path.join(os.tmpdir(), `fazlab-${process.pid}-${newToken().slice(0, 8)}.sock`)
}

/** The `ws` URL of a Unix socket. */
export const unixSocketUrl = (socket: string): string => `ws+unix:${socket}:/`

const listenUnix = (server: http.Server, socket: string): Promise<void> =>
  new Promise((resolve, reject) => {
    // A socket file left by a lab that was killed: nothing listens on it any more.
    fs.rmSync(socket, { force: true })
    fs.mkdirSync(path.dirname(socket), { recursive: true })
    server.once("error", reject)
    server.listen({ path: socket }, () => {
      server.off("error", reject)
      fs.chmodSync(socket, 0o600)
      resolve()
    })
  })

const listen = (server: http.Server, bind: ControlBind): Promise<number> =>
  new Promise((resolve, reject) => {
    server.once("error", reject)
    server.listen({ host: bind.host, port: bind.port, exclusive: true }, () => {
      server.off("error", reject)
      const address = server.address()
      resolve(typeof address === "object" && address !== null ? address.port : bind.port)
    })
  })

/** Serves `target` until the scope closes. */
export const serveControl = (
  target: ControlTarget,
  options: ControlServerOptions
): Effect.Effect<ControlServer, ControlBindError, Scope.Scope> => {
  const bind = options.bind ?? DEFAULT_CONTROL_BIND
  const limits: ControlLimits = { ...DEFAULT_CONTROL_LIMITS, ...options.limits }
  const acquire = Effect.tryPromise({
    try: async () => {
      const channel = new ControlChannel(target, limits, options.token ?? newToken())
      const unixSocket = socketPath(options.dataDir)
      const port = await listen(channel.http, bind).then(async (port) => {
        await listenUnix(channel.unix, unixSocket)
        return port
      }).catch(async (error: unknown) => {
        await channel.close()
        throw error
      })
      return { channel, url: controlUrl(bind.host, port), unixSocket }
    },
    catch: (cause) => {
      const code = errorCode(cause)
      return new ControlBindError({ host: bind.host, port: bind.port, code, reason: explainListenFailure(code) })
    }
  })
  return Effect.acquireRelease(acquire, ({ channel, url }) =>
    Effect.promise(async () => {
      if (options.dataDir !== null) removeControlFiles(options.dataDir, url)
      await channel.close()
    })).pipe(
      Effect.tap(({ url, channel, unixSocket }) =>
        Effect.sync(() => {
          if (options.dataDir !== null) {
            writeControlFiles(options.dataDir, { url, pid: process.pid, version: PROTOCOL_VERSION, unixSocket }, channel.token)
          }
        })
      ),
      Effect.map(({ channel, url, unixSocket }) => ({ url, unixSocket, token: channel.token, stats: () => channel.stats() }))
    )
}

interface Client {
  readonly socket: WebSocket
  readonly outbox: Outbox
  /** Set once the client said `node-hello`: it runs a device, and answers the lab's requests. */
  node: ClientNode | null
}

/** A device node's connection, as the lab asks it things. */
class ClientNode implements NodeLink {
  readonly #outbox: Outbox
  readonly #pending = new Map<number, { readonly resolve: (result: unknown) => void; readonly reject: (error: Error) => void }>()
  #next = 1
  #closed: string | null = null

  constructor(outbox: Outbox) {
    this.#outbox = outbox
  }

  request(request: NodeRequest): Promise<unknown> {
    if (this.#closed !== null) return Promise.reject(new Error(this.#closed))
    const id = this.#next++
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject })
      this.#outbox.push(requestMessage(id, request))
    })
  }

  answer(message: AnswerMessage): void {
    const waiting = this.#pending.get(message.id)
    if (waiting === undefined) return
    this.#pending.delete(message.id)
    if (message.ok) waiting.resolve(message.result)
    else waiting.reject(new Error(message.error))
  }

  close(device: string): void {
    this.#closed = `the node of ${device} disconnected before it answered; it reconnects on its own, try again`
    for (const waiting of this.#pending.values()) waiting.reject(new Error(this.#closed))
    this.#pending.clear()
  }
}

/** The HTTP server, the WebSocket endpoint and the connected clients of one lab. */
class ControlChannel {
  readonly http: http.Server
  readonly unix: http.Server
  readonly token: string
  readonly #target: ControlTarget
  readonly #limits: ControlLimits
  readonly #sockets: WebSocketServer
  /** The Unix socket's clients (device nodes): larger messages. */
  readonly #unixSockets: WebSocketServer
  readonly #clients = new Set<Client>()
  readonly #unsubscribe: () => void
  #dropped = 0

  constructor(target: ControlTarget, limits: ControlLimits, token: string) {
    this.#target = target
    this.#limits = limits
    this.token = token
    this.#sockets = new WebSocketServer({ noServer: true, maxPayload: limits.maxCommandBytes })
    this.#unixSockets = new WebSocketServer({ noServer: true, maxPayload: Math.max(limits.maxCommandBytes, UNIX_MAX_MESSAGE_BYTES) })
    this.http = this.#server(this.#sockets)
    this.unix = this.#server(this.#unixSockets)
    // Serialised once per event, whatever the number of clients.
    this.#unsubscribe = target.bus.subscribe((event) => {
      if (this.#clients.size === 0) return
      const message = eventMessage(event)
      for (const client of this.#clients) client.outbox.push(message)
    })
  }

  stats() {
    return { clients: this.#clients.size, dropped: this.#dropped }
  }

  #server(sockets: WebSocketServer): http.Server {
    const server = http.createServer((_request, response) => {
      response.writeHead(426, { "Content-Type": "text/plain; charset=utf-8", Upgrade: "websocket" })
      response.end("this is a fazlab lab's control channel: connect with a WebSocket client (see docs/control.md)\n")
    })
    server.on("upgrade", (request: http.IncomingMessage, socket: stream.Duplex, head: Buffer) => this.#upgrade(sockets, request, socket, head))
    return server
  }

  #upgrade(sockets: WebSocketServer, request: http.IncomingMessage, socket: stream.Duplex, head: Buffer): void {
    socket.on("error", () => socket.destroy())
    const presented = presentedToken(request)
    if (presented === null) {
      return refuseUpgrade(
        socket,
        `no control token: send the header "Authorization: Bearer <token>" or add ?token=<token> to the URL; the token is in the lab's ${TOKEN_FILE}`
      )
    }
    if (!tokenMatches(presented, this.token)) {
      return refuseUpgrade(socket, `wrong control token: use the one in the lab's ${TOKEN_FILE} (each lab start makes a new one)`)
    }
    sockets.handleUpgrade(request, socket, head, (ws) => this.#accept(ws))
  }

  #accept(socket: WebSocket): void {
    const client: Client = {
      socket,
      outbox: new Outbox(socket, this.#limits, (backlog) => this.#drop(client, backlog)),
      node: null
    }
    // The snapshot and the subscription happen in the same turn, so no event falls between them.
    client.outbox.push(JSON.stringify(snapshotOf(this.#target)))
    this.#clients.add(client)
    socket.on("message", (data, isBinary) => {
      if (isBinary) return client.outbox.push(errorReply(null, "binary frames are not part of the protocol; send each message as one JSON text frame"))
      void this.#command(client, data.toString())
    })
    socket.on("close", () => {
      this.#clients.delete(client)
      if (client.node !== null) {
        client.node.close(this.#nodeDevice.get(client.node) ?? "a device")
        this.#target.nodes?.gone(client.node)
      }
    })
    // ws closes the socket after an error (bad frame, oversized message); nothing else to do.
    socket.on("error", () => undefined)
  }

  async #command(client: Client, text: string): Promise<void> {
    const decoded = decodeClientMessage(text)
    if (decoded._tag === "Failure") return client.outbox.push(errorReply(decoded.failure.id, decoded.failure.error))
    const message = decoded.success
    if (message.type === "answer") return client.node?.answer(message)
    const { id, command } = message
    const effect: Effect.Effect<unknown, { readonly message: string }> = this.#nodeCommand(client, command) ?? commandEffect(this.#target, command)
    const exit = await Effect.runPromiseExit(effect)
    if (Exit.isSuccess(exit)) return client.outbox.push(okReply(id, exit.value))
    const failure = Cause.findErrorOption(exit.cause)
    client.outbox.push(errorReply(
      id,
      failure._tag === "Some"
        ? failure.value.message
        : `internal error while running ${command.name}: ${String(Cause.squash(exit.cause))}; this is a bug in fazlab, please report it`
    ))
  }

  readonly #nodeDevice = new WeakMap<NodeLink, string>()

  /** `node-hello` and `node-events`, which only a lab with nodes takes; null for every other command. */
  #nodeCommand(client: Client, command: ControlCommand): Effect.Effect<unknown, { readonly message: string }> | null {
    if (command.name !== "node-hello" && command.name !== "node-events" && command.name !== "address") return null
    const hub = this.#target.nodes
    if (hub === undefined) return null
    if (command.name === "node-hello") {
      const link = new ClientNode(client.outbox)
      client.node = link
      this.#nodeDevice.set(link, command.device)
      return hub.hello(command.device, command.pid, link)
    }
    if (client.node === null) return Effect.fail({ message: `send node-hello before ${command.name}: the lab must know which device the node runs` })
    if (command.name === "address") return hub.address(command.device, command.address, command.take)
    return hub.events(command, client.node)
  }

  /** The client fell behind: tell it why (after what it already has), then close it. */
  #drop(client: Client, backlog: Backlog): void {
    this.#dropped++
    this.#clients.delete(client)
    client.socket.send(droppedMessage(
      backlog.messages > this.#limits.maxQueuedMessages
        ? `fell behind: ${backlog.messages} events queued`
        : `fell behind: ${backlog.chars} characters queued in ${backlog.messages} messages`
    ))
    this.#closeClient(client.socket, CloseCode.FellBehind, "fell behind")
  }

  #closeClient(socket: WebSocket, code: number, reason: string): Promise<void> {
    return new Promise((resolve) => {
      if (socket.readyState === WebSocket.CLOSED) return resolve()
      const timer = setTimeout(() => socket.terminate(), this.#limits.closeGraceMs)
      timer.unref()
      socket.once("close", () => {
        clearTimeout(timer)
        resolve()
      })
      socket.close(code, reason)
    })
  }

  async close(): Promise<void> {
    this.#unsubscribe()
    const all = [this.#sockets, this.#unixSockets]
    const closing = all.flatMap((sockets) => [...sockets.clients]).map((socket) => this.#closeClient(socket, CloseCode.LabStopped, "the lab stopped"))
    this.#clients.clear()
    await Promise.all(closing)
    await Promise.all(all.map((sockets) => new Promise<void>((resolve) => sockets.close(() => resolve()))))
    await Promise.all([this.http, this.unix].map((server) =>
      new Promise<void>((resolve) => {
        if (!server.listening) return resolve()
        server.close(() => resolve())
        server.closeAllConnections()
      })
    ))
  }
}
