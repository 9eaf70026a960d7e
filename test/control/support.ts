/**
 * Test helpers for the control channel: serve a target in its own scope, a fake analyzer
 * registry, a lab-backed target, and a raw WebSocket client that collects what the server
 * sends so a test can wait for a message instead of sleeping.
 */
import { Effect, Exit, Scope } from "effect"
import { WebSocket } from "ws"
import type { RegisteredDevice } from "../../src/control/protocol.ts"
import { type ControlServer, type ControlServerOptions, serveControl } from "../../src/control/server.ts"
import type { ControlAnalyzer, ControlTarget, Explained } from "../../src/control/target.ts"
import type { Lab } from "../../src/lab/lab.ts"

export interface Served {
  readonly server: ControlServer
  close(): Promise<void>
}

export const serve = async (target: ControlTarget, options: ControlServerOptions = { dataDir: null }): Promise<Served> => {
  const scope = await Effect.runPromise(Scope.make())
  const server = await Effect.runPromise(Scope.provide(scope)(serveControl(target, options)))
  return { server, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}

/** The lab as a control target, with `analyzers` replaced by fakes (registry commands). */
export const labTarget = (lab: Lab, analyzers: ReadonlyArray<ControlAnalyzer>): ControlTarget => ({
  name: lab.name,
  bus: lab.bus,
  devices: lab.devices,
  plan: lab.plan,
  perform: (action) => lab.perform(action),
  analyzers: () => analyzers,
  haRoles: () => lab.haRoles(),
  stepNow: () => lab.stepNow()
})

const refusal = (message: string): Explained => ({ message })

/** An analyzer registry in memory (and no stored logs): authorize releases `heldLogs`, delete drops them. */
export const fakeAnalyzer = (id: string, devices: ReadonlyArray<RegisteredDevice>): ControlAnalyzer & { readonly registry: Map<string, RegisteredDevice> } => {
  const registry = new Map(devices.map((device) => [device.serial, device]))
  const unknown = (verb: string, serial: string) => Effect.fail(refusal(`${verb} ${serial}: no device with serial ${serial} has registered with ${id}`))
  return {
    id,
    registry,
    store: { query: () => [], count: () => 0 },
    listDevices: () => [...registry.values()],
    authorizeDevice: (serial, adom) => {
      const device = registry.get(serial)
      if (device === undefined) return unknown("authorize", serial)
      registry.set(serial, { ...device, state: "authorized", adom: adom ?? "root", heldLogs: 0 })
      return Effect.succeed({ released: device.heldLogs })
    },
    deleteDevice: (serial) => {
      const device = registry.get(serial)
      if (device === undefined) return unknown("delete", serial)
      registry.delete(serial)
      return Effect.succeed({ dropped: device.heldLogs })
    }
  }
}

export const registered = (serial: string, overrides: Partial<RegisteredDevice> = {}): RegisteredDevice => ({
  serial,
  name: `fgt-${serial.slice(-2)}`,
  platform: "FortiGate-VM64",
  version: "7.4.4",
  ip: "127.0.1.2",
  vdoms: ["root"],
  adom: null,
  state: "unauthorized",
  firstSeen: Date.UTC(2025, 0, 2, 3, 4, 5),
  lastSeen: Date.UTC(2025, 0, 2, 3, 5, 0),
  lastSeq: 0,
  heldLogs: 7,
  ...overrides
})

export interface RawClient {
  readonly socket: WebSocket
  /** Every parsed message so far, in order. */
  readonly messages: ReadonlyArray<Record<string, unknown>>
  /** Resolves with the first message (already received or future) that matches. */
  next(predicate: (message: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>
  /** Resolves with the close code and reason once the connection has ended. */
  readonly closed: Promise<{ readonly code: number; readonly reason: string }>
  send(message: unknown): void
}

/** A WebSocket client that speaks the protocol by hand; `auth` picks how the token travels. */
export const rawClient = (url: string, token: string, auth: "header" | "query" = "header"): Promise<RawClient> =>
  new Promise((resolve, reject) => {
    const socket = auth === "header"
      ? new WebSocket(url, { headers: { Authorization: `Bearer ${token}` } })
      : new WebSocket(`${url}?token=${encodeURIComponent(token)}`)
    const messages: Array<Record<string, unknown>> = []
    const watchers = new Set<() => void>()
    const closed = new Promise<{ code: number; reason: string }>((done) =>
      socket.once("close", (code, reason) => {
        done({ code, reason: reason.toString() })
        for (const watcher of watchers) watcher()
      })
    )
    socket.on("message", (data) => {
      messages.push(JSON.parse(data.toString()) as Record<string, unknown>)
      for (const watcher of watchers) watcher()
    })
    socket.once("error", reject)
    socket.once("open", () =>
      resolve({
        socket,
        messages,
        closed,
        send: (message) => socket.send(typeof message === "string" ? message : JSON.stringify(message)),
        next: (predicate, timeoutMs = 10_000) =>
          new Promise((found, fail) => {
            let checked = 0
            const check = () => {
              for (; checked < messages.length; checked++) {
                const message = messages[checked] as Record<string, unknown>
                if (predicate(message)) {
                  done()
                  return found(message)
                }
              }
              if (socket.readyState === WebSocket.CLOSED) {
                done()
                fail(new Error(`the connection closed before a matching message; last: ${JSON.stringify(messages.slice(-3))}`))
              }
            }
            const timer = setTimeout(() => {
              done()
              fail(new Error(`no matching message within ${timeoutMs} ms; last: ${JSON.stringify(messages.slice(-3))}`))
            }, timeoutMs)
            const done = () => {
              clearTimeout(timer)
              watchers.delete(check)
            }
            watchers.add(check)
            check()
          })
      })
    )
  })

/** Connects without upgrading successfully: the HTTP status and body of a refused upgrade. */
export const refusedUpgrade = (url: string, headers: Readonly<Record<string, string>> = {}): Promise<{ status: number; body: string }> =>
  new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers })
    socket.once("open", () => {
      socket.terminate()
      reject(new Error("the server accepted the connection"))
    })
    socket.once("unexpected-response", (_request, response) => {
      let body = ""
      response.setEncoding("utf8")
      response.on("data", (chunk: string) => (body += chunk))
      response.on("end", () => {
        socket.terminate()
        resolve({ status: response.statusCode ?? 0, body: body.trim() })
      })
    })
    // terminate() during the handshake reports an error; the answer is already settled.
    socket.on("error", () => undefined)
  })

/** Turns the event loop once (I/O callbacks run), without a timer. */
export const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))
