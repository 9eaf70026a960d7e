/**
 * The control channel from the other side: find a running lab's channel (`findControl`),
 * connect with its token (`connectControl`), send commands, follow its events, and follow its
 * stored logs (`followLogs`).
 *
 * Every failure is a `ControlClientError` whose message is one sentence for the user; its
 * `kind` says whose fault it is: "refused" when the lab refused a command (the lab's own
 * sentence), anything else when the channel could not be found, reached or kept.
 */
import * as fs from "node:fs"
import type * as http from "node:http"
import * as path from "node:path"
import { WebSocket } from "ws"
import type { LabEvent } from "../events/events.ts"
import { CONTROL_FILE, readControlInfo, TOKEN_FILE } from "./access.ts"
import {
  type CommandId,
  commandMessage,
  type CommandResult,
  type ControlCommand,
  decodeServerMessage,
  type LogCursor,
  type LogsCommand,
  answerMessage,
  type RequestMessage,
  type SnapshotMessage
} from "./protocol.ts"

export type ControlClientErrorKind = "not-found" | "unreachable" | "unauthorized" | "protocol" | "closed" | "refused"

export class ControlClientError extends Error {
  override readonly name = "ControlClientError"
  readonly kind: ControlClientErrorKind

  constructor(kind: ControlClientErrorKind, message: string) {
    super(message)
    this.kind = kind
  }
}

export interface ControlAddress {
  readonly url: string
  readonly token: string
  /** The lab's Unix socket, when its control.json names one. */
  readonly unixSocket?: string
}

/** Why the connection ended: the close code and reason, and the `dropped` reason when the lab dropped the client. */
export interface ControlClosed {
  readonly code: number
  readonly reason: string
  readonly dropped: string | null
}

export interface ControlClient {
  /** The lab as it was when the client connected. */
  readonly snapshot: SnapshotMessage
  /** Resolves with the command's result; rejects with the lab's sentence (kind "refused") or a connection problem. */
  command<C extends ControlCommand>(command: C): Promise<CommandResult<C>>
  /** Calls `listener` for every lab event from now on; returns the function that stops it. */
  onEvent(listener: (event: LabEvent) => void): () => void
  /** Calls `listener` for every request of the lab (a device node's connection only); returns the function that stops it. */
  onRequest(listener: (request: RequestMessage) => void): () => void
  /** Answers the lab's request `id`. */
  answer(id: number, outcome: { readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly error: string }): void
  /** Resolves when the connection has ended, for whatever reason. */
  readonly closed: Promise<ControlClosed>
  close(): Promise<void>
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists, it is just not ours to signal.
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

/**
 * The control channel of the lab in `labDir` or, without one, of the most recently started
 * running lab under `<cwd>/.fazlab/`.
 */
export const findControl = (cwd: string, labDir?: string): ControlAddress => {
  const root = path.join(cwd, ".fazlab")
  const dirs = labDir !== undefined
    ? [path.resolve(cwd, labDir)]
    : fs.existsSync(root)
    ? fs.readdirSync(root).map((name) => path.join(root, name))
    : []
  const labs = dirs
    .map((dir) => ({ dir, file: path.join(dir, CONTROL_FILE) }))
    .flatMap(({ dir, file }) => {
      const info = readControlInfo(file)
      return info === null ? [] : [{ dir, info, mtime: fs.statSync(file).mtimeMs }]
    })
    .filter(({ info }) => isAlive(info.pid))
    .sort((a, b) => b.mtime - a.mtime)
  const found = labs[0]
  if (found === undefined) {
    throw new ControlClientError(
      "not-found",
      labDir !== undefined
        ? `no running lab in ${labDir} (no ${CONTROL_FILE} of a live lab there); start it with fazlab up --data-dir ${labDir}, or pass --control URL --token T`
        : `no running lab found under ${root}; start one here with fazlab up, or pass --lab DIR or --control URL --token T`
    )
  }
  const tokenFile = path.join(found.dir, TOKEN_FILE)
  let token: string
  try {
    token = fs.readFileSync(tokenFile, "utf8").trim()
  } catch (error) {
    throw new ControlClientError(
      "not-found",
      `cannot read the control token ${tokenFile} (${(error as NodeJS.ErrnoException).code ?? "unreadable"}); run as the user who started the lab`
    )
  }
  return { url: found.info.url, token, ...(found.info.unixSocket === undefined ? {} : { unixSocket: found.info.unixSocket }) }
}

interface Pending {
  readonly resolve: (result: never) => void
  readonly reject: (error: ControlClientError) => void
}

/** Reads the body of a refused upgrade (the server's reason, one line). */
const refusalReason = (response: http.IncomingMessage): Promise<string> =>
  new Promise((resolve) => {
    let body = ""
    response.setEncoding("utf8")
    response.on("data", (chunk: string) => (body += chunk))
    response.on("end", () => resolve(body.trim()))
    response.on("error", () => resolve(body.trim()))
  })

/** Connects and waits for the snapshot; rejects with a ControlClientError. */
export const connectControl = (address: ControlAddress, options: { readonly timeoutMs?: number } = {}): Promise<ControlClient> =>
  new Promise((resolve, reject) => {
    const timeoutMs = options.timeoutMs ?? 10_000
    const socket = new WebSocket(address.url, { headers: { Authorization: `Bearer ${address.token}` }, handshakeTimeout: timeoutMs })
    const pending = new Map<CommandId, Pending>()
    const listeners = new Set<(event: LabEvent) => void>()
    const requestListeners = new Set<(request: RequestMessage) => void>()
    let snapshot: SnapshotMessage | null = null
    let dropped: string | null = null
    let nextId = 1
    let failure: ControlClientError | null = null
    let settle: (closed: ControlClosed) => void = () => undefined
    const closed = new Promise<ControlClosed>((done) => (settle = done))

    const fail = (error: ControlClientError) => {
      failure ??= error
      socket.terminate()
    }

    socket.on("unexpected-response", (_request, response) => {
      void refusalReason(response).then((reason) =>
        fail(
          response.statusCode === 401
            ? new ControlClientError("unauthorized", `the lab refused the control connection: ${reason}`)
            : new ControlClientError("protocol", `${address.url} is not a fazlab control channel (HTTP ${response.statusCode ?? "?"})`)
        )
      )
    })
    socket.on("error", (error: NodeJS.ErrnoException) => {
      fail(
        new ControlClientError(
          "unreachable",
          `cannot reach the lab's control channel at ${address.url} (${error.code ?? error.message}); is the lab still running?`
        )
      )
    })
    socket.on("message", (data) => {
      const decoded = decodeServerMessage(data.toString())
      if (decoded._tag === "Failure") return fail(new ControlClientError("protocol", decoded.failure))
      const message = decoded.success
      switch (message.type) {
        case "snapshot":
          if (snapshot !== null) return
          snapshot = message
          return resolve(client(message))
        case "event":
          for (const listener of listeners) listener(message.event as unknown as LabEvent)
          return
        case "reply": {
          const waiting = message.id === null ? undefined : pending.get(message.id)
          if (waiting === undefined) return
          pending.delete(message.id as CommandId)
          return message.ok
            ? waiting.resolve(message.result as never)
            : waiting.reject(new ControlClientError("refused", message.error))
        }
        case "dropped":
          dropped = message.reason
          return
        case "request":
          for (const listener of requestListeners) listener(message)
          return
      }
    })
    socket.on("close", (code, reason) => {
      const why = dropped !== null
        ? `the lab dropped this client: ${dropped}`
        : failure?.message ?? `the control connection closed (${code}${reason.length > 0 ? ` ${reason.toString()}` : ""}) before the lab replied`
      for (const waiting of pending.values()) waiting.reject(failure ?? new ControlClientError("closed", why))
      pending.clear()
      settle({ code, reason: reason.toString(), dropped })
      if (snapshot === null) reject(failure ?? new ControlClientError("closed", `the lab closed the control connection before its snapshot (${code})`))
    })

    const client = (first: SnapshotMessage): ControlClient => ({
      snapshot: first,
      closed,
      command: <C extends ControlCommand>(command: C) =>
        new Promise<CommandResult<C>>((done, refuse) => {
          if (socket.readyState !== WebSocket.OPEN) {
            return refuse(failure ?? new ControlClientError("closed", "the control connection is closed; connect again"))
          }
          const id = nextId++
          pending.set(id, { resolve: done as (result: never) => void, reject: refuse })
          socket.send(commandMessage(id, command))
        }),
      onEvent: (listener) => {
        listeners.add(listener)
        return () => listeners.delete(listener)
      },
      onRequest: (listener) => {
        requestListeners.add(listener)
        return () => requestListeners.delete(listener)
      },
      answer: (id, outcome) => {
        if (socket.readyState === WebSocket.OPEN) socket.send(answerMessage(id, outcome))
      },
      close: async () => {
        if (socket.readyState !== WebSocket.CLOSED) socket.close(1000, "client done")
        await closed
      }
    })
  })

/** The events after which new logs may be readable: logs stored, held logs released, a new HA primary. */
export const mayHaveNewLogs = (event: LabEvent): boolean =>
  event.type === "logs-stored" || event.type === "device-authorized" || event.type === "ha-role"

export interface LogFollowOptions {
  /** The filters (and `analyzer`) of every query; `limit` is the size of the first answer. */
  readonly query: Omit<LogsCommand, "name" | "after" | "latest">
  /** The size of each later answer. */
  readonly pageLimit: number
  /** Only the newest `pageLimit` of the logs stored since the last answer (a view of the end), not all of them. */
  readonly latest: boolean
  /** Each answer's logs (oldest first) and the analyzer they come from. */
  onLogs(logs: CommandResult<LogsCommand>["logs"], analyzer: string): void
  /** The lab refused a query (its sentence); the follower asks again at the next `poke`. */
  onRefused(reason: string): void
}

export interface LogFollower {
  /** Asks for the logs stored since the last answer: now, or once the query in flight is answered. */
  poke(): void
  stop(): void
}

/**
 * Follows an analyzer's stored logs over the channel: the newest first, then what is stored
 * after, each log once and in order. One query at a time, asked when `poke` says there may be
 * more (call it for the events `mayHaveNewLogs` picks) and at once while the lab says `more`,
 * so a reader gets logs as fast as it takes them and the lab reads no more than it is asked.
 */
export const followLogs = (client: Pick<ControlClient, "command">, options: LogFollowOptions): LogFollower => {
  let cursor: LogCursor | undefined
  let busy = false
  let again = false
  let stopped = false
  const ask = async (): Promise<void> => {
    if (stopped) return
    if (busy) {
      again = true
      return
    }
    busy = true
    again = false
    try {
      const command: LogsCommand = cursor === undefined
        ? { name: "logs", ...options.query }
        : { name: "logs", ...options.query, limit: options.pageLimit, after: cursor, ...(options.latest ? { latest: true } : {}) }
      const result = await client.command(command)
      if (stopped) return
      cursor = result.cursor
      if (result.more) again = true
      options.onLogs(result.logs, result.analyzer)
    } catch (error) {
      // A closed connection ends the follow where the caller watches `closed`.
      if (!stopped && error instanceof ControlClientError && error.kind === "refused") options.onRefused(error.message)
    } finally {
      busy = false
    }
    if (again) return ask()
  }
  void ask()
  return {
    poke: () => void ask(),
    stop: () => {
      stopped = true
    }
  }
}
