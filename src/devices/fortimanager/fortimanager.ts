/**
 * The emulated FortiManager. It listens for FGFM on TCP/541 (TLS, certificate CN = its serial)
 * and keeps the list of FortiGates that register (`fgfm-server.ts`); it connects to the analyzers
 * it manages on their TCP/541, and they register in the same list (`analyzer-dialer.ts`); and it logs its own events
 * to an analyzer the way the vendor's port table says a FortiManager does: OFTP over TLS on
 * TCP/514 (`fortianalyzer`) and/or syslog on UDP/514 (`syslog`, or `fortianalyzer` with
 * `reliable disable`), through the FortiGate's `FortiOsLogs` with the FortiManager's identity.
 *
 * Its logs are FortiOS-style key=value event logs (`event-system` unless `logs` says otherwise).
 */
import * as Effect from "effect/Effect"
import type { PortKey } from "../../events/events.ts"
import type { BindError } from "../../net/errors.ts"
import { listenTcp } from "../../net/tcp.ts"
import { serverTlsOptions } from "../../net/tls.ts"
import type { LogKind } from "../../protocols/fortios/logs.ts"
import type { DeviceContext, DeviceStatus, LogSource } from "../device.ts"
import { FGFM_PORT } from "../shared/fgfm-device-link.ts"
import { FortiOsLogs } from "../fortigate/fortigate.ts"
import { ConnectionRules } from "../shared/connection-rules.ts"
import { type Halt, ListenerRun } from "../shared/listener-run.ts"
import { AnalyzerDialer } from "./analyzer-dialer.ts"
import { FgfmServer, type ManagedDevice } from "./fgfm-server.ts"
import type { FortiManagerSpec } from "./settings.ts"

/** The ports a FortiManager binds. */
export const FORTIMANAGER_PORTS: ReadonlyArray<PortKey> = [FGFM_PORT]

/** What a FortiManager logs when its scenario names no log kinds. */
const DEFAULT_LOGS: ReadonlyArray<LogKind> = ["event-system"]

export class FortiManager implements LogSource {
  readonly kind = "fortimanager"
  readonly id: string
  readonly hostname: string
  readonly serial: string
  readonly settings: FortiManagerSpec
  /** `syslog` and `fortianalyzer`: its own logs, as a FortiGate sends them. */
  readonly #logs: FortiOsLogs
  readonly #context: DeviceContext
  readonly #listening = new Set<PortKey>()
  /** From start to stop: the status, and the scope TCP/541 is bound in. */
  readonly #run: ListenerRun
  /** TCP/541's connection rules; `connections.closed` counts by rule. */
  readonly connections: ConnectionRules
  #fgfm: FgfmServer | null = null
  /** From start to stop: its connections to the analyzers it manages. */
  #dialer: AnalyzerDialer | null = null
  /** The device list outlives a restart, as the FortiManager's database does. */
  #devices: ReadonlyArray<ManagedDevice> = []

  constructor(id: string, settings: FortiManagerSpec, context: DeviceContext) {
    this.id = id
    this.settings = settings
    this.hostname = settings.hostname
    this.serial = settings.serial
    this.#context = context
    this.#run = new ListenerRun(this, context.bus)
    this.connections = new ConnectionRules(id, context)
    this.#logs = new FortiOsLogs({
      device: { id, hostname: settings.hostname, serial: settings.serial, vdom: "root", platform: settings.platform, version: settings.version },
      kind: "fortimanager",
      syslog: settings.syslog,
      fortianalyzer: settings.fortianalyzer,
      defaultLogs: DEFAULT_LOGS,
      context
    })
  }

  status(): DeviceStatus {
    return this.#run.status
  }

  /** The FortiGates that registered, with their authorization and whether their session is up. */
  managedDevices(): ReadonlyArray<ManagedDevice> {
    return this.#fgfm?.devices() ?? this.#devices
  }

  managedDevice(serial: string): ManagedDevice | undefined {
    return this.managedDevices().find((device) => device.serial === serial)
  }

  /** Authorizes a registered FortiGate; false when it never registered. */
  authorizeDevice(serial: string): boolean {
    return this.#fgfm?.setAuthorization(serial, "authorized") ?? false
  }

  sentTo(analyzer: string): number {
    return this.#logs.sentTo(analyzer)
  }

  pause(): void {
    this.#logs.pause()
  }

  resume(): void {
    this.#logs.resume()
  }

  burst(count: number): void {
    this.#logs.burst(count)
  }

  /** TCP/541 first, then the logging to analyzers. */
  start(): Effect.Effect<void, BindError> {
    const self = this
    return this.#run.start({
      prepare: () =>
        Effect.map(this.#makeFgfmServer(), (server) => {
          this.#fgfm = server
        }),
      bind: () => this.#bind(),
      bound: (bound) =>
        Effect.gen(function*() {
          self.#listening.add(bound.port)
          self.#context.plan.recordBound({ device: self.id, ...bound })
          self.#context.bus.publish({ type: "listener-bound", device: self.id, ...bound })
          self.#manageAnalyzers()
          yield* self.#logs.start()
        })
    })
  }

  /** Connects to the analyzers of `managed-analyzers`, through the FGFM server of this run. */
  #manageAnalyzers(): void {
    const server = this.#fgfm
    if (server === null || this.settings.managedAnalyzers.length === 0) return
    const { analyzerLink } = this.settings
    this.#dialer = new AnalyzerDialer({
      manager: this.id,
      serial: this.serial,
      context: this.#context,
      server,
      connectTimeoutMs: analyzerLink.connectTimeout,
      retryIntervalMs: analyzerLink.retryInterval
    })
    this.#dialer.start(this.settings.managedAnalyzers)
  }

  /** The FGFM server with its certificate (CN = this FortiManager's serial). */
  #makeFgfmServer(): Effect.Effect<FgfmServer | null> {
    const { pki, plan, bus, clock } = this.#context
    if (pki === null) return Effect.succeed(null)
    const { fgfm } = this.settings
    const previous = this.#devices
    return Effect.promise(() => pki.issue({ serial: this.serial, role: "server", ips: [plan.addressOf(this.id), "127.0.0.1"], hostnames: ["localhost"] })).pipe(
      Effect.map((identity) => {
        const server = new FgfmServer({
          device: this.id,
          serial: this.serial,
          bus,
          clock,
          settings: fgfm,
          tls: serverTlsOptions({
            identity,
            caPem: pki.caPem,
            // The widest list: each FortiGate's own `enc-algorithm` decides what it offers.
            encAlgorithm: "low",
            sslMinProtoVersion: fgfm.fgfmSslProtocol === "tlsv1.3" ? "TLSv1-3" : "TLSv1-2",
            requestClientCert: false
          })
        })
        server.restore(previous)
        return server
      })
    )
  }

  #bind() {
    const { plan } = this.#context
    const self = this
    return Effect.gen(function*() {
      const tcp = yield* listenTcp({
        device: self.id,
        port: FGFM_PORT,
        host: plan.addressOf(self.id),
        actualPort: plan.listenPortFor(FGFM_PORT),
        ...self.connections.listener(self.settings.fgfm, `devices.${self.id}.fgfm`, FGFM_PORT),
        onConnection: (socket) => {
          if (self.#fgfm === null) socket.destroy()
          else self.#fgfm.accept(socket)
        }
      })
      // Runs before the listener closes (finalizers run in reverse order).
      yield* Effect.addFinalizer(() => Effect.sync(() => self.#announceClosed()))
      return { port: FGFM_PORT, address: tcp.address, actualPort: tcp.actualPort }
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
    return this.#run.halt({ closing: this.#quieten("clean"), closed: () => this.#keepDevices() })
  }

  kill(): Effect.Effect<void> {
    return this.#run.halt({ closing: this.#quieten("crash"), closed: () => this.#keepDevices() })
  }

  /** Before TCP/541 closes: the senders stop; on a clean stop OFTP and FGFM say goodbye, in a crash OFTP is cut. */
  #quieten(how: Halt): Effect.Effect<void> {
    const self = this
    return Effect.gen(function*() {
      self.#dialer?.stop()
      self.#dialer = null
      yield* self.#logs.halt(how)
      if (how === "clean") self.#fgfm?.shutdown(`${self.id} is shutting down`)
    })
  }

  /** After TCP/541 closed: the FGFM server goes, its device list stays for the next start. */
  #keepDevices(): void {
    this.#fgfm?.dispose()
    this.#devices = this.#fgfm?.devices() ?? this.#devices
    this.#fgfm = null
  }

  dispose(): Effect.Effect<void> {
    const self = this
    return Effect.gen(function*() {
      yield* self.stop()
      yield* self.#logs.dispose()
    })
  }
}
