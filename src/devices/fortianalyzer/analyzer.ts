/**
 * The emulated FortiAnalyzer: binds its documented syslog ports (UDP/514, TCP/514), parses and
 * stores what arrives, and counts what it cannot use.
 *
 * Its store lives in `<data>/<device>/logs.sqlite` (or in memory for a throwaway lab) and is
 * reopened on restart. Each start opens a scope; stop closes it, which closes every listener
 * and connection and flushes pending logs before the store closes.
 */
import * as path from "node:path"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import type { PortKey } from "../../events/events.ts"
import type { BindError } from "../../net/errors.ts"
import { listenTcp } from "../../net/tcp.ts"
import { listenUdp } from "../../net/udp.ts"
import { LogStore } from "../../store/log-store.ts"
import type { Device, DeviceContext, DeviceStatus } from "../device.ts"
import { StoreWriter } from "./store-writer.ts"
import { SyslogIntake } from "./syslog-intake.ts"

export interface AnalyzerSettings {
  readonly serial: string
  readonly syslog: {
    readonly maxFrameBytes: number
    readonly udpReceiveBuffer: number
    readonly maxConnections: number
  }
}

/** The syslog ports this analyzer binds (vendor table: "Syslog UDP/514 or TCP/514", "Logging UDP/514"). */
export const ANALYZER_SYSLOG_PORTS: ReadonlyArray<PortKey> = ["udp/514", "tcp/514"]

export class FortiAnalyzer implements Device {
  readonly kind = "fortianalyzer"
  readonly id: string
  readonly settings: AnalyzerSettings
  readonly store: LogStore
  readonly #context: DeviceContext
  readonly #listening = new Set<PortKey>()
  #scope: Scope.Closeable | null = null
  #status: DeviceStatus = "stopped"
  #intake: SyslogIntake
  #writer: StoreWriter

  constructor(id: string, settings: AnalyzerSettings, context: DeviceContext) {
    this.id = id
    this.settings = settings
    this.#context = context
    this.store = LogStore.open(
      context.dataDir === null ? { memory: true } : { path: path.join(context.dataDir, id, "logs.sqlite") }
    )
    this.#writer = new StoreWriter({ store: this.store, bus: context.bus, analyzer: id })
    this.#intake = new SyslogIntake({
      device: id,
      bus: context.bus,
      writer: this.#writer,
      limits: { maxFrameBytes: settings.syslog.maxFrameBytes }
    })
  }

  status(): DeviceStatus {
    return this.#status
  }

  get intake(): SyslogIntake {
    return this.#intake
  }

  get writer(): StoreWriter {
    return this.#writer
  }

  isListening(port: PortKey): boolean {
    return this.#listening.has(port)
  }

  start(): Effect.Effect<void, BindError> {
    const self = this
    return Effect.gen(function*() {
      if (self.#scope !== null) return
      self.#status = "starting"
      const scope = yield* Scope.make()
      self.#scope = scope
      const bound = yield* Scope.provide(scope)(self.#bindAll()).pipe(
        Effect.tapError((error) =>
          Effect.gen(function*() {
            self.#context.bus.publish({
              type: "listener-failed",
              device: self.id,
              port: error.port as PortKey,
              address: error.address,
              actualPort: error.actualPort,
              code: error.code,
              reason: error.reason
            })
            self.#status = "failed"
            self.#scope = null
            yield* Scope.close(scope, Exit.void)
          })
        )
      )
      for (const endpoint of bound) {
        self.#listening.add(endpoint.port)
        self.#context.plan.recordBound({ device: self.id, ...endpoint })
        self.#context.bus.publish({ type: "listener-bound", device: self.id, ...endpoint })
      }
      self.#status = "running"
      self.#context.bus.publish({ type: "device-started", device: self.id, kind: self.kind })
    })
  }

  #bindAll() {
    const { plan } = this.#context
    const address = plan.addressOf(this.id)
    const syslog = this.settings.syslog
    const self = this
    return Effect.gen(function*() {
      const udp = yield* listenUdp({
        device: self.id,
        port: "udp/514",
        host: address,
        actualPort: plan.listenPortFor("udp/514"),
        receiveBufferBytes: syslog.udpReceiveBuffer,
        onMessage: self.#intake.onDatagram
      })
      const tcp = yield* listenTcp({
        device: self.id,
        port: "tcp/514",
        host: address,
        actualPort: plan.listenPortFor("tcp/514"),
        maxConnections: syslog.maxConnections,
        onConnection: self.#intake.onConnection,
        onRefused: (peer, reason) =>
          self.#context.bus.publish({ type: "connection-closed", device: self.id, port: "tcp/514", peer, reason })
      })
      // Runs before the listeners close (finalizers run in reverse order): announce, then flush.
      yield* Effect.addFinalizer(() => Effect.sync(() => self.#announceClosed()))
      return [
        { port: "udp/514" as const, address: udp.address, actualPort: udp.actualPort },
        { port: "tcp/514" as const, address: tcp.address, actualPort: tcp.actualPort }
      ]
    })
  }

  #announceClosed(): void {
    for (const port of this.#listening) {
      this.#context.plan.forget(this.id, port)
      this.#context.bus.publish({ type: "listener-closed", device: this.id, port })
    }
    this.#listening.clear()
  }

  stop(): Effect.Effect<void> {
    const self = this
    return Effect.gen(function*() {
      const scope = self.#scope
      if (scope === null) return
      self.#scope = null
      yield* Scope.close(scope, Exit.void)
      self.#writer.flush()
      self.#status = "stopped"
      self.#context.bus.publish({ type: "device-stopped", device: self.id, kind: self.kind })
    })
  }

  /** Stops and closes the store; the device cannot be started again. */
  dispose(): Effect.Effect<void> {
    return this.stop().pipe(Effect.andThen(Effect.sync(() => this.store.close())))
  }
}
