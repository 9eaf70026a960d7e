/**
 * The emulated FortiGate. It logs the way FortiOS does, to one or both destinations:
 *
 * - `log syslogd` (`syslog` in a lab file): FortiOS 7.x logs in the "default" format (a PRI,
 *   then key=value) or RFC 5424, over `udp`, `reliable` (TCP, octet counting) or
 *   `legacy-reliable` (TCP, LF): `devices/shared/syslog-sender.ts`.
 * - `log fortianalyzer` (`fortianalyzer`): OFTP over TLS on TCP/514 with store-and-forward
 *   (`faz-logger.ts`); with `reliable disable`, logs go over UDP/514 unencrypted instead, as
 *   FortiOS does.
 *
 * With `central-management` it also registers to a FortiManager over FGFM on TCP/541
 * (`fgfm-client.ts`).
 *
 * Each destination numbers its own logs; a lab that wants "none lost" checks should send a
 * FortiGate's logs to an analyzer over one destination only.
 */
import * as Effect from "effect/Effect"
import { formatKeyValues } from "../../protocols/fortios/kv.ts"
import { type LogKind, makeFortiOsLog } from "../../protocols/fortios/logs.ts"
import { SEVERITIES } from "../../protocols/syslog/encode.ts"
import type { DeviceContext, DeviceStatus, LogSource } from "../device.ts"
import { seededRandom } from "../shared/random.ts"
import { type MakeLog, SyslogSender, type SyslogSenderSettings } from "../shared/syslog-sender.ts"
import { FazLogger, type FazLoggerSettings, type FortiGateIdentity } from "./faz-logger.ts"
import { type CentralManagementSettings, FgfmClient } from "./fgfm-client.ts"
import { pickKind } from "./log-mix.ts"

export interface FortiGateSettings {
  readonly serial: string
  readonly hostname: string
  readonly vdom: string
  readonly platform: string
  readonly version: string
  readonly syslog: (SyslogSenderSettings & { readonly logs: ReadonlyArray<LogKind> | null }) | null
  readonly fortianalyzer: (FazLoggerSettings & { readonly reliable: "enable" | "disable" }) | null
  /** `config system central-management` (type fortimanager); null when not managed. */
  readonly centralManagement: CentralManagementSettings | null
}

/** The FortiOS log text for one sequence number. */
export const fortiGateLogMaker = (device: { readonly serial: string; readonly hostname: string; readonly vdom: string }, logs: ReadonlyArray<LogKind> | null): MakeLog => {
  const random = seededRandom(device.serial)
  const identity = { name: device.hostname, serial: device.serial, vdom: device.vdom }
  return (seq, now) => {
    const fields = makeFortiOsLog({
      device: identity,
      kind: pickKind(random, logs),
      seq,
      epochNs: BigInt(now.getTime()) * 1_000_000n + BigInt(seq % 1_000_000),
      random
    })
    const level = fields.find(([key]) => key === "level")?.[1]
    return { message: formatKeyValues(fields), severity: SEVERITIES[String(level) as keyof typeof SEVERITIES] ?? 5 }
  }
}

export class FortiGate implements LogSource {
  readonly kind = "fortigate"
  readonly id: string
  readonly hostname: string
  readonly serial: string
  /** `log syslogd`, and `log fortianalyzer` with `reliable disable` (UDP/514). */
  readonly syslog: SyslogSender | null
  readonly udpToAnalyzer: SyslogSender | null
  /** `log fortianalyzer` over OFTP. */
  readonly faz: FazLogger | null
  /** `central-management`: FGFM to a FortiManager. */
  readonly fgfm: FgfmClient | null
  readonly #context: DeviceContext
  #started = false

  constructor(id: string, settings: FortiGateSettings, context: DeviceContext) {
    this.id = id
    this.#context = context
    this.hostname = settings.hostname
    this.serial = settings.serial
    const identity: FortiGateIdentity = { id, ...settings }
    this.syslog = settings.syslog === null
      ? null
      : new SyslogSender({
        id,
        kind: "fortigate",
        hostname: settings.hostname,
        settings: settings.syslog,
        context,
        announce: false,
        makeLog: fortiGateLogMaker(settings, settings.syslog.logs)
      })
    this.fgfm = settings.centralManagement === null ? null : new FgfmClient(identity, settings.centralManagement, context)
    const faz = settings.fortianalyzer
    this.faz = faz !== null && faz.reliable === "enable" ? new FazLogger(identity, faz, context) : null
    this.udpToAnalyzer = faz !== null && faz.reliable === "disable"
      ? new SyslogSender({
        id,
        kind: "fortigate",
        hostname: settings.hostname,
        settings: { server: faz.server, mode: "udp", format: "default", facility: "local7", port: 514, rate: faz.rate, count: faz.count },
        context,
        announce: false,
        makeLog: fortiGateLogMaker(settings, faz.logs)
      })
      : null
  }

  #senders(): ReadonlyArray<SyslogSender> {
    return [this.syslog, this.udpToAnalyzer].filter((sender): sender is SyslogSender => sender !== null)
  }

  status(): DeviceStatus {
    return this.#started ? "running" : "stopped"
  }

  sentTo(analyzer: string): number {
    const viaSyslog = this.#senders().filter((sender) => sender.settings.server === analyzer).reduce((max, s) => Math.max(max, s.sent), 0)
    const viaOftp = this.faz !== null && this.faz.settings.server === analyzer ? this.faz.sent : 0
    return Math.max(viaSyslog, viaOftp)
  }

  start(): Effect.Effect<void> {
    const self = this
    return Effect.gen(function*() {
      if (self.#started) return
      for (const sender of self.#senders()) yield* sender.start()
      self.faz?.start()
      self.fgfm?.start()
      self.#started = true
      self.#context.bus.publish({ type: "device-started", device: self.id, kind: self.kind })
    })
  }

  stop(): Effect.Effect<void> {
    return this.#halt((faz) => faz.stop(), (fgfm) => fgfm.stop())
  }

  /** Abrupt: links are cut with no goodbye. */
  kill(): Effect.Effect<void> {
    return this.#halt((faz) => faz.kill(), (fgfm) => fgfm.kill())
  }

  #halt(haltFaz: (faz: FazLogger) => void, haltFgfm: (fgfm: FgfmClient) => void): Effect.Effect<void> {
    const self = this
    return Effect.gen(function*() {
      if (!self.#started) return
      for (const sender of self.#senders()) yield* sender.stop()
      if (self.faz !== null) haltFaz(self.faz)
      if (self.fgfm !== null) haltFgfm(self.fgfm)
      self.#started = false
      self.#context.bus.publish({ type: "device-stopped", device: self.id, kind: self.kind })
    })
  }

  pause(): void {
    for (const sender of this.#senders()) sender.pause()
    this.faz?.pause()
  }

  resume(): void {
    for (const sender of this.#senders()) sender.resume()
    this.faz?.resume()
  }

  burst(count: number): void {
    for (const sender of this.#senders()) sender.burst(count)
    this.faz?.burst(count)
  }

  dispose(): Effect.Effect<void> {
    const self = this
    return Effect.gen(function*() {
      yield* self.stop()
      for (const sender of self.#senders()) yield* sender.dispose()
      self.faz?.dispose()
      self.fgfm?.dispose()
    })
  }
}
