/**
 * The emulated FortiAnalyzer: binds UDP/514 and TCP/514, takes syslog on both and OFTP (TLS) on
 * TCP/514, stores what arrives, keeps the registry of devices and their authorization, and
 * counts what it cannot use.
 *
 * TCP/514 serves two protocols on one port, told apart by each connection's first byte: 0x16
 * (a TLS ClientHello) goes to OFTP (`oftp-server.ts`), anything else to syslog
 * (`syslog-intake.ts`, which tells octet counting from LF framing in turn). TCP/8443 (logs from
 * FortiClient for Chromebook) and TLS/443 (FortiClient as a Fabric member) are HTTPS
 * (`https-intake.ts`).
 *
 * Its store lives in `<data>/<device>/logs.sqlite` (or in memory for a throwaway lab) and is
 * reopened on restart. Each start opens a scope; `stop` says goodbye to OFTP devices and
 * flushes pending syslog before the listeners close; `kill` cuts everything as a crash would:
 * what was not yet stored is lost, and was never acknowledged.
 *
 * In an HA group (`ha-member.ts`) the analyzer binds its listeners only while it is the acting
 * primary, on the group's virtual IP (recorded in the port plan under the group's name), and
 * syncs what it stores to the secondaries; a secondary takes what the primary syncs.
 *
 * The management plane (`MANAGEMENT_PORTS`: the admin CLI over SSH on TCP/22, `ssh-server.ts`;
 * HTTP on TCP/80 and the XML web service on TCP/8080, `web-admin.ts`; FGFM on TCP/541 for a
 * FortiManager that manages the analyzer, `fgfm-managed.ts`) always listens on the analyzer's own address, as a real unit's
 * management interface does, so an administrator reaches each HA member, primary or not. The web
 * admin and the JSON-RPC API share TLS/443 with FortiClient's Fabric join (`https-intake.ts`).
 */
import * as http from "node:http"
import type * as net from "node:net"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type { PortKey } from "../../events/events.ts"
import { RealLabClock } from "../../machines/clock.ts"
import type { BindError } from "../../net/errors.ts"
import { listenTcp, type TcpConnectionGuard } from "../../net/tcp.ts"
import { listenUdp, type UdpServer } from "../../net/udp.ts"
import { serverTlsOptions } from "../../net/tls.ts"
import type { RegisteredDevice } from "../../store/device-registry.ts"
import type { LogRecordInput } from "../../store/log-record.ts"
import { LogStore } from "../../store/log-store.ts"
import { ActionError, type Device, type DeviceContext, type DeviceStatus } from "../device.ts"
import { ConnectionRules } from "../shared/connection-rules.ts"
import { type Halt, ListenerRun } from "../shared/listener-run.ts"
import { AdminAccounts } from "./admin.ts"
import { RemoteAuth } from "./remote-auth.ts"
import type { HaGroupConfig } from "./ha-group.ts"
import { AnalyzerHa } from "./ha-member.ts"
import { AggregationClient } from "./aggregation-client.ts"
import { AGGREGATION_PORT, AggregationServer } from "./aggregation-server.ts"
import { AlertMailer } from "./alert-mail.ts"
import { CameraDiscovery } from "./camera-discovery.ts"
import { AnalyzerAlerts } from "./alerts.ts"
import { DC_POLLING_PORT, DcPolling } from "./dc-polling.ts"
import { FgfmManaged } from "./fgfm-managed.ts"
import { FortiGuardUpdater } from "./fortiguard.ts"
import { NtpSync } from "./ntp-sync.ts"
import { HttpsIntake } from "./https-intake.ts"
import { JsonRpcApi } from "./jsonrpc-api.ts"
import { LogForwarder } from "./log-forward.ts"
import { OftpServer } from "./oftp-server.ts"
import { NOTIFY_HTTP_PORT, NOTIFY_TCP_PORT, RecorderIntake, RTSP_PORTS, UPLOAD_PORT } from "./recorder-intake.ts"
import type { FortiAnalyzerSpec } from "./settings.ts"
import { SnmpTrapSender } from "./snmp-traps.ts"
import { CliSession } from "./cli.ts"
import { SshServer } from "./ssh-server.ts"
import { StoreWriter } from "./store-writer.ts"
import { AnalyzerReports } from "./reports.ts"
import { AnalyzerUploads } from "./uploads.ts"
import { SyslogIntake } from "./syslog-intake.ts"
import { FIRMWARE, PLATFORM } from "./system-view.ts"
import { listenSyslogUdp, startUdpReceiver } from "./udp-intake.ts"
import { answerAsFortinet, WebAdmin } from "./web-admin.ts"

/** What an analyzer is built from: its scenario settings, with its HA group (or null for a standalone analyzer) for `ha`. */
export interface AnalyzerSettings extends Omit<FortiAnalyzerSpec, "kind" | "ha"> {
  readonly ha: HaGroupConfig | null
}

/** The ports this analyzer binds: syslog on UDP/514 and TCP/514, OFTP on TCP/514 too, HTTPS on 8443 and 443. */
export const ANALYZER_PORTS: ReadonlyArray<PortKey> = ["udp/514", "tcp/514", "tcp/8443", "tcp/443"]

/**
 * The management ports, always on the analyzer's own address: SSH (the admin CLI), HTTP (the
 * redirect to the web admin on TCP/443), FGFM (a FortiManager that manages the analyzer) and the
 * web service (SOAP/XML API) on TCP/8080 that FortiPortal's XML calls reach, and SMB2 on TCP/445
 * (DC polling, `dc-polling.ts`); for FortiRecorder (`recorder-intake.ts`) the notify channels on
 * TCP/3010 and TCP/3011 and RTSP on UDP/554 or, with `fortirecorder rtsp-transport tcp`, TCP/554
 * (the plan keeps a place for both); log aggregation from other analyzers on TCP/3000
 * (`aggregation-server.ts`).
 */
export const MANAGEMENT_PORTS: ReadonlyArray<PortKey> = ["tcp/22", "tcp/80", "tcp/541", "tcp/8080", DC_POLLING_PORT, UPLOAD_PORT, NOTIFY_TCP_PORT, NOTIFY_HTTP_PORT, RTSP_PORTS.udp, RTSP_PORTS.tcp, AGGREGATION_PORT]

/** The HTTPS ports, for FortiClient: "Logs from Chromebook" and "Fabric Member". */
const HTTPS_PORTS: ReadonlyArray<"tcp/8443" | "tcp/443"> = ["tcp/8443", "tcp/443"]

/** The first byte of a TLS record carrying a handshake (a ClientHello). */
const TLS_HANDSHAKE = 0x16

/** What an SSH session's idle-timeout counts on, whatever the lab clock: its real client's time (ssh-server.ts). */
const WALL_CLOCK = new RealLabClock()

export class FortiAnalyzer implements Device {
  readonly kind = "fortianalyzer"
  readonly id: string
  readonly settings: AnalyzerSettings
  readonly store: LogStore
  readonly #context: DeviceContext
  readonly #listening = new Set<PortKey>()
  /** From start to stop: the status, and the scope of the listeners on the analyzer's own address. */
  readonly #run: ListenerRun
  #oftp: OftpServer | null = null
  #https: HttpsIntake | null = null
  #ssh: SshServer | null = null
  #web: WebAdmin | null = null
  #managed: FgfmManaged | null = null
  /** TCP/3000, while the analyzer runs. */
  aggregation: AggregationServer | null = null
  /** The JSON-RPC API of the current run (sessions end with it, as on a reboot). */
  api: JsonRpcApi | null = null
  /** The lab clock's time at the last start (for up-times). */
  #startedAt = 0
  readonly admins: AdminAccounts
  readonly intake: SyslogIntake
  readonly writer: StoreWriter
  /** The HA side, for a member of a group. */
  readonly ha: AnalyzerHa | null
  /** `config system log-forward`: runs from start to stop. */
  readonly forwarder: LogForwarder
  /** Its `log-forward` entries of mode aggregation: run from start to stop. */
  readonly aggregator: AggregationClient
  /** What its event handlers and SNMP watch; raised alerts go to the trap sender. */
  readonly alerts: AnalyzerAlerts
  readonly traps: SnmpTrapSender
  readonly mailer: AlertMailer
  /** `config system ntp`: runs from start to stop. */
  readonly ntp: NtpSync
  /** `config fmupdate fds-setting`: FortiGuard updates from start to stop (with a DNS server in `config system dns`). */
  readonly fortiguard: FortiGuardUpdater
  /** Rolled log uploads and configuration backups: scheduled from start to stop. */
  readonly uploads: AnalyzerUploads
  /** Report schedules: run from start to stop, on demand from the CLI and the JSON-RPC API. */
  readonly reports: AnalyzerReports
  /** SMB2 on TCP/445 (DC polling). */
  readonly dcPolling: DcPolling
  /** FortiRecorder's notify channels and RTSP. */
  readonly recorders: RecorderIntake
  /** `fortirecorder camera-discovery`: polls from start to stop. */
  readonly cameras: CameraDiscovery
  /** Its listeners' connection rules; `connections.closed` counts by rule (docs/errors.md, "Connections a listener closes"). */
  readonly connections: ConnectionRules

  /** Connections refused because a listener had `max-connections` open. */
  get refusedConnections(): number {
    return this.connections.closed["max-connections"]
  }

  /** Connections closed because they sent nothing within `first-byte-timeout`. */
  get firstByteTimeouts(): number {
    return this.connections.closed["first-byte-timeout"]
  }

  constructor(id: string, settings: AnalyzerSettings, context: DeviceContext) {
    this.id = id
    this.settings = settings
    this.#context = context
    this.#run = new ListenerRun(this, context.bus)
    this.connections = new ConnectionRules(id, context)
    this.admins = new AdminAccounts(settings.admin, new RemoteAuth({
      analyzer: id,
      bus: context.bus,
      plan: context.plan,
      ldap: settings.admin.ldap,
      radius: settings.admin.radius,
      timeoutMs: settings.admin.setting.remoteAuthTimeout
    }))
    this.recorders = new RecorderIntake({ device: id, serial: settings.serial, bus: context.bus, admins: this.admins, address: context.plan.addressOf(id), dataDir: context.dataDir })
    this.cameras = new CameraDiscovery({ analyzer: id, serial: settings.serial, bus: context.bus, plan: context.plan, clock: context.clock, settings: settings.fortirecorder })
    this.dcPolling = new DcPolling({ device: id, serial: settings.serial, bus: context.bus, startedAt: () => Date.now() - this.uptime() })
    const storePath = context.dataDir === null ? null : path.join(context.dataDir, id, "logs.sqlite")
    this.store = LogStore.open(storePath === null ? { memory: true } : { path: storePath })
    this.traps = new SnmpTrapSender({ analyzer: id, serial: settings.serial, bus: context.bus, plan: context.plan, clock: context.clock, communities: settings.snmp.community })
    this.ntp = new NtpSync({ analyzer: id, bus: context.bus, plan: context.plan, clock: context.clock, settings: settings.ntp })
    this.fortiguard = new FortiGuardUpdater({
      analyzer: id,
      serial: settings.serial,
      bus: context.bus,
      plan: context.plan,
      clock: context.clock,
      dns: settings.dns,
      fds: settings.fdsSetting,
      docker: settings.docker,
      caPem: context.pki?.caPem ?? null
    })
    this.mailer = new AlertMailer({ analyzer: id, serial: settings.serial, bus: context.bus, plan: context.plan, mail: settings.mail, alertEvents: settings.alertEvent })
    this.alerts = new AnalyzerAlerts({ analyzer: id, bus: context.bus, thresholds: settings.snmp.sysinfo, sinks: [this.traps.alert, this.mailer.alert] })
    this.uploads = new AnalyzerUploads({
      analyzer: id,
      bus: context.bus,
      plan: context.plan,
      clock: context.clock,
      logSettings: settings.logSettings,
      backup: settings.backup.allSettings,
      allSettings: () => `${new CliSession(this, () => new Date()).allSettings().join("\n")}\n`,
      store: this.store
    })
    this.reports = new AnalyzerReports({
      analyzer: id,
      serial: settings.serial,
      hostname: settings.hostname,
      bus: context.bus,
      clock: context.clock,
      store: this.store,
      uploads: this.uploads,
      mailer: this.mailer,
      directory: this.admins.remote,
      settings: settings.report
    })
    this.forwarder = new LogForwarder({ analyzer: id, serial: settings.serial, hostname: settings.hostname, context, bus: context.bus, plan: context.plan, clock: context.clock, devices: this.store.devices, entries: settings.logForward })
    this.aggregator = new AggregationClient({ analyzer: id, serial: settings.serial, context, store: this.store, entries: settings.logForward })
    this.writer = new StoreWriter({
      store: this.store,
      bus: context.bus,
      analyzer: id,
      maxFrameBytes: settings.syslog.maxFrameBytes,
      rejected: (r) => this.intake.reject(r.port, r.peer, r.reason, r.detail),
      partial: (p) => this.intake.partialLog(p),
      accepted: (count) => {
        this.intake.received += count
      },
      // Only an HA member and an analyzer that forwards or uploads logs need the stored records back from the store thread.
      ...(settings.ha === null && settings.logForward.length === 0 && !this.uploads.rollsLogs
        ? {}
        : {
          onStored: (batch: ReadonlyArray<LogRecordInput>, firstId: number) => {
            this.ha?.forwardLogs(batch, firstId)
            this.forwarder.stored(batch)
            this.uploads.stored(batch)
          }
        }),
      // A file store on the real clock parses and stores syslog on its own thread; a memory store
      // cannot be shared with one, and a simulated clock must see each log stored in its own turn.
      threadPath: context.clock.simulated ? null : storePath
    })
    this.intake = new SyslogIntake({
      device: id,
      bus: context.bus,
      writer: this.writer,
      limits: { maxFrameBytes: settings.syslog.maxFrameBytes }
    })
    if (!context.clock.simulated) startUdpReceiver()
    this.ha = settings.ha === null
      ? null
      : new AnalyzerHa(
        {
          id,
          serial: settings.serial,
          store: this.store,
          bus: context.bus,
          plan: context.plan,
          clock: context.clock,
          connections: this.connections,
          vipPorts: ANALYZER_PORTS,
          bindVip: () => this.#bindVip()
        },
        settings.ha
      )
  }

  get serial(): string {
    return this.settings.serial
  }

  /** Where the analyzer's own listeners go: on the group's virtual IP (only while primary) or on its own address. */
  get #onVip(): boolean {
    return this.settings.ha?.vip === true
  }

  status(): DeviceStatus {
    return this.#run.status
  }

  /** The OFTP side, while the analyzer runs. */
  get oftp(): OftpServer | null {
    return this.#oftp
  }

  /** Lab time since the analyzer last started, ms. */
  uptime(): number {
    return this.#context.clock.now() - this.#startedAt
  }

  /** Devices with an OFTP session up right now. */
  connectedSerials(): ReadonlyArray<string> {
    return this.#oftp?.connectedSerials() ?? []
  }

  /**
   * An analyzer whose listeners go on its HA group's virtual IP binds only its management ports
   * here: the HA side binds the others while it is primary.
   */
  start(): Effect.Effect<void, BindError> {
    return this.#run.start({
      prepare: () => this.#makeTlsServices(),
      bind: () => Effect.andThen(this.#onVip ? Effect.void : this.#bindAll(this.id), this.#bindManagement()),
      started: () => {
        this.fortiguard.start()
        this.ntp.start()
        this.uploads.start()
        this.reports.start()
        this.alerts.start()
        this.#startedAt = this.#context.clock.now()
        this.forwarder.start()
        this.aggregator.start()
        this.cameras.start()
        this.ha?.start()
      }
    })
  }

  /** TCP/22 (SSH), TCP/80 (HTTP), TCP/541 (FGFM), TCP/8080 (the XML web service) and TCP/445 (SMB2) on the analyzer's own address. */
  #bindManagement() {
    const { plan, bus } = this.#context
    const address = plan.addressOf(this.id)
    const self = this
    return Effect.gen(function*() {
      const ssh = self.#ssh
      const web = self.#web
      const managed = self.#managed
      const aggregation = self.aggregation
      if (ssh === null || web === null || managed === null || aggregation === null) return
      const plain = answerAsFortinet(http.createServer(web.plain))
      const webService = answerAsFortinet(http.createServer(web.webService))
      const notifyHttp = answerAsFortinet(http.createServer(self.recorders.notifyHttp))
      const rtsp = RTSP_PORTS[self.settings.fortirecorder.rtspTransport]
      const handlers: ReadonlyArray<readonly [PortKey, (socket: net.Socket) => void]> = [
        ["tcp/22", (socket) => ssh.connection(socket)],
        ["tcp/80", (socket) => plain.emit("connection", socket)],
        ["tcp/541", (socket) => managed.accept(socket)],
        ["tcp/8080", (socket) => webService.emit("connection", socket)],
        [DC_POLLING_PORT, (socket) => self.dcPolling.connection(socket)],
        [UPLOAD_PORT, (socket) => self.recorders.uploads.connection(socket)],
        [NOTIFY_TCP_PORT, self.recorders.notifyConnection],
        [NOTIFY_HTTP_PORT, (socket) => notifyHttp.emit("connection", socket)],
        [AGGREGATION_PORT, (socket) => aggregation.accept(socket)],
        ...(rtsp === RTSP_PORTS.tcp ? [[rtsp, self.recorders.rtspConnection] as const] : [])
      ]
      const bound: Array<{ port: PortKey; address: string; actualPort: number }> = []
      for (const [port, onConnection] of handlers) {
        const listener = yield* listenTcp({
          device: self.id,
          port,
          host: address,
          actualPort: plan.listenPortFor(port),
          ...self.connections.listener(self.settings.admin.setting, `devices.${self.id}.admin.setting`, port),
          onConnection
        })
        bound.push({ port, address: listener.address, actualPort: listener.actualPort })
      }
      if (rtsp === RTSP_PORTS.udp) {
        const udp: UdpServer = yield* listenUdp({
          device: self.id,
          port: rtsp,
          host: address,
          actualPort: plan.listenPortFor(rtsp),
          receiveBufferBytes: 262_144,
          onMessage: (message, peer) => self.recorders.rtspDatagram(message, `${peer.address}:${peer.port}`, (answer) => udp.send(answer, peer.port, peer.address))
        })
        bound.push({ port: rtsp, address: udp.address, actualPort: udp.actualPort })
      }
      yield* self.cameras.bind(address)
      for (const endpoint of bound) {
        self.#listening.add(endpoint.port)
        plan.recordBound({ device: self.id, ...endpoint })
        bus.publish({ type: "listener-bound", device: self.id, ...endpoint })
      }
      yield* Effect.addFinalizer(() => Effect.sync(() => {
        ssh.close()
        plain.close()
        webService.close()
        notifyHttp.close()
        self.recorders.uploads.close()
        self.#announceClosed(self.id, bound.map((endpoint) => endpoint.port))
      }))
    })
  }

  /**
   * HA primary: the listeners on the group's virtual IP, in the scope of the primary's hold (they
   * close when it lets go). A failure is the HA side's to report, once per claim.
   */
  #bindVip(): Effect.Effect<void, BindError, Scope.Scope> {
    return Effect.suspend(() => {
      const group = this.settings.ha?.group
      if (group === undefined || !this.#run.open) return Effect.void
      // In a network namespace the virtual IP is put on the interface first (and taken off after the listeners closed).
      const take = this.#context.host?.takeAddress(this.#context.plan.addressOf(group), "tcp/514") ?? Effect.void
      return Effect.andThen(take, Effect.asVoid(this.#bindAll(group)))
    })
  }

  /** OFTP and HTTPS, with a certificate whose CN is this analyzer's serial, as FortiOS checks; SSH with its host key. */
  #makeTlsServices(): Effect.Effect<void> {
    const { pki, plan, bus, clock } = this.#context
    if (pki === null) return Effect.void
    const identity = { serial: this.settings.serial, role: "server", ips: [plan.addressOf(this.id), "127.0.0.1"], hostnames: ["localhost"] } as const
    return Effect.promise(() => Promise.all([pki.issue(identity), pki.sshHostKey(this.settings.serial)])).pipe(
      Effect.map(([certificate, hostKeyPem]) => {
        this.#ssh = new SshServer({ device: this.id, bus, clientClock: WALL_CLOCK, view: this, hostKeyPem })
        const api = new JsonRpcApi({ device: this.id, bus, clock, view: this })
        this.api = api
        // TCP/443 is on the HA group's virtual IP for a member behind one, else on the analyzer's own address.
        const owner = this.#onVip ? this.settings.ha?.group ?? this.id : this.id
        this.#web = new WebAdmin({ view: this, api, httpsPort: () => plan.resolve(owner, "tcp/443").actualPort })
        const tls = serverTlsOptions({
          identity: certificate,
          caPem: pki.caPem,
          encAlgorithm: this.settings.oftp.encAlgorithm,
          sslMinProtoVersion: this.settings.oftp.sslMinProtoVersion,
          requestClientCert: false
        })
        this.#oftp = new OftpServer({
          device: this.id,
          serial: this.settings.serial,
          bus,
          store: this.store,
          writer: this.writer,
          clock,
          settings: this.settings.oftp,
          tls,
          replicate: (serial, records, held) => this.ha?.replicate(serial, records, held) ?? null,
          onStored: (records) => this.forwarder.stored(records),
          onRegistryChanged: () => this.ha?.configChanged()
        })
        this.aggregation = new AggregationServer({
          device: this.id,
          serial: this.settings.serial,
          bus,
          store: this.store,
          admins: this.admins,
          settings: this.settings.logForwardService,
          tls
        })
        this.#managed = new FgfmManaged({
          identity: { id: this.id, serial: this.settings.serial, hostname: this.settings.hostname, platform: PLATFORM.fullName, version: `v${FIRMWARE.major}.${FIRMWARE.minor}.${FIRMWARE.patch}` },
          tls,
          context: this.#context
        })
        this.#https = new HttpsIntake({
          device: this.id,
          serial: this.settings.serial,
          bus,
          store: this.store,
          writer: this.writer,
          intake: this.intake,
          tls,
          admin: (request, response) => this.#web?.handle(request, response)
        })
      })
    )
  }

  /**
   * TCP/514: TLS goes to OFTP, the rest is syslog. The listener closes a connection that sends
   * nothing within `first-byte-timeout` (idle sockets would hold connection slots for ever); a
   * syslog connection that has sent is closed for being quiet only after `idle-timeout`, which is
   * off by default (a reliable syslog sender may be silent a long time).
   */
  readonly #onTcpConnection = (socket: net.Socket, guard: TcpConnectionGuard): void => {
    socket.once("data", (first: Buffer) => {
      socket.pause()
      const oftp = this.#oftp
      if (first[0] === TLS_HANDSHAKE && oftp !== null) oftp.accept(socket, first)
      else {
        guard.closeWhenIdle(this.settings.syslog.idleTimeout, `devices.${this.id}.syslog.idle-timeout`)
        this.intake.onConnection(socket, first)
        socket.resume()
      }
    })
  }

  /** Binds the analyzer's listeners on the address of `owner` (this analyzer, or its HA group) and records them under it. */
  #bindAll(owner: string) {
    const { plan } = this.#context
    const address = plan.addressOf(owner)
    const syslog = this.settings.syslog
    const self = this
    return Effect.gen(function*() {
      const udp = yield* listenSyslogUdp({
        device: self.id,
        port: "udp/514",
        host: address,
        actualPort: plan.listenPortFor("udp/514"),
        receiveBufferBytes: syslog.udpReceiveBuffer,
        // Its own start may wait for the UDP receiver thread; taking over an HA group's virtual IP
        // may not. On a simulated clock UDP stays on the main thread, where the clock sees it arrive.
        thread: self.#context.clock.simulated ? "main" : owner === self.id ? "wait" : "if-ready",
        onBatch: self.intake.onUdpBatch,
        onDatagram: self.intake.onDatagram,
        // The receiver thread ended: UDP/514 is read on the main thread now, or is lost if it could not be bound again.
        onMoved: (moved, reason) =>
          self.#context.bus.publish({ type: "listener-moved", device: owner, port: "udp/514", address: moved.address, actualPort: moved.actualPort, reason }),
        onLost: (error) => {
          plan.forget(owner, "udp/514")
          self.#context.bus.publish({ type: "listener-failed", device: owner, port: "udp/514", address: error.address, actualPort: error.actualPort, code: error.code, reason: error.reason })
        }
      })
      const tcp = yield* listenTcp({
        device: self.id,
        port: "tcp/514",
        host: address,
        actualPort: plan.listenPortFor("tcp/514"),
        ...self.connections.listener(syslog, `devices.${self.id}.syslog`, "tcp/514"),
        onConnection: self.#onTcpConnection
      })
      const bound: Array<{ port: PortKey; address: string; actualPort: number }> = [
        { port: "udp/514", address: udp.address, actualPort: udp.actualPort },
        { port: "tcp/514", address: tcp.address, actualPort: tcp.actualPort }
      ]
      const https = self.#https
      if (https !== null) {
        for (const port of HTTPS_PORTS) {
          const listener = yield* listenTcp({
            device: self.id,
            port,
            host: address,
            actualPort: plan.listenPortFor(port),
            ...self.connections.listener(self.settings.https, `devices.${self.id}.https`, port),
            onConnection: (socket) => https.connection(port, socket)
          })
          bound.push({ port, address: listener.address, actualPort: listener.actualPort })
        }
      }
      for (const endpoint of bound) {
        if (owner === self.id) self.#listening.add(endpoint.port)
        plan.recordBound({ device: owner, ...endpoint })
        self.#context.bus.publish({ type: "listener-bound", device: owner, ...endpoint })
      }
      // Runs before the listeners close (finalizers run in reverse order).
      yield* Effect.addFinalizer(() => Effect.sync(() => self.#announceClosed(owner, bound.map((endpoint) => endpoint.port))))
    })
  }

  #announceClosed(owner: string, ports: ReadonlyArray<PortKey>): void {
    for (const port of ports) {
      if (owner === this.id) this.#listening.delete(port)
      this.#context.plan.forget(owner, port)
      this.#context.bus.publish({ type: "listener-closed", device: owner, port })
    }
  }

  stop(): Effect.Effect<void> {
    return this.#run.halt({ closing: this.#stepDown("clean"), closed: () => this.#releaseIntakes("clean") })
  }

  kill(): Effect.Effect<void> {
    return this.#run.halt({ closing: this.#stepDown("crash"), closed: () => this.#releaseIntakes("crash") })
  }

  /** Before the listeners close: OFTP says goodbye (a crash drops what the writer held), an HA primary steps down. */
  #stepDown(how: Halt): Effect.Effect<void> {
    const self = this
    return Effect.gen(function*() {
      // Its own stop is no alert: sessions it closes now are not devices going offline.
      self.alerts.stop()
      self.ntp.stop()
      self.fortiguard.stop()
      self.uploads.stop()
      self.reports.stop()
      self.aggregator.stop()
      self.cameras.stop()
      if (how === "clean") self.#oftp?.shutdown(`${self.id} is shutting down`)
      else self.writer.discard()
      if (how === "clean") self.#managed?.stop()
      else self.#managed?.dispose()
      // An HA primary steps down first (GOODBYE only on a clean stop): TCP/5199 and the VIP close.
      const ha = self.ha
      if (ha !== null) yield* Effect.promise(() => (how === "clean" ? ha.stop() : ha.kill()))
    })
  }

  /** After the listeners closed: OFTP and HTTPS go, and what UDP/514 handed over is stored or lost. */
  #releaseIntakes(how: Halt): void {
    this.#oftp?.dispose()
    this.#oftp = null
    this.#https?.close()
    this.#https = null
    this.#ssh = null
    this.#web = null
    this.#managed?.dispose()
    this.#managed = null
    this.aggregation = null
    this.api = null
    // Closing UDP/514 hands over what its receiver thread still held: stored on a clean stop, lost in a crash.
    if (how === "clean") this.writer.flush()
    else this.writer.discard()
    // Forwarding stops last: on a clean stop what was stored is sent first.
    this.forwarder.stop(how)
  }

  /** Stops and closes the store; the device cannot be started again. */
  dispose(): Effect.Effect<void> {
    return this.stop().pipe(Effect.andThen(Effect.sync(() => {
      this.ha?.dispose()
      this.recorders.dispose()
      this.writer.close()
      this.store.close()
    })))
  }

  listDevices(): ReadonlyArray<RegisteredDevice> {
    return this.store.devices.list()
  }

  /** Authorizes a registered device: its held logs appear, its live session learns at once. */
  authorizeDevice(serial: string, adom: string | null): Effect.Effect<{ readonly released: number; readonly adom: string }, ActionError> {
    return Effect.suspend(() => {
      if (this.store.devices.get(serial) === undefined) {
        return Effect.fail(new ActionError({ action: `authorize ${serial}`, reason: `${this.id} has no registered device with serial ${serial}; see fazlab ctl devices` }))
      }
      const { device, released } = this.store.devices.authorize(serial, adom)
      const inAdom = device.adom ?? "root"
      this.#oftp?.notify(serial, "authorized", inAdom)
      this.ha?.configChanged()
      this.#context.bus.publish({ type: "device-authorized", device: this.id, serial, adom: inAdom, released, reason: "authorized by an administrator" })
      return Effect.succeed({ released, adom: inAdom })
    })
  }

  /** Deletes a registered device: its held logs are dropped (counted), its session is closed. */
  deleteDevice(serial: string): Effect.Effect<{ readonly dropped: number }, ActionError> {
    return Effect.suspend(() => {
      if (this.store.devices.get(serial) === undefined) {
        return Effect.fail(new ActionError({ action: `delete ${serial}`, reason: `${this.id} has no registered device with serial ${serial}; see fazlab ctl devices` }))
      }
      this.#oftp?.notify(serial, "deleted", null)
      const { dropped } = this.store.devices.remove(serial)
      this.ha?.deviceDeleted(serial)
      this.#context.bus.publish({ type: "device-deleted", device: this.id, serial, dropped })
      return Effect.succeed({ dropped })
    })
  }
}
