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
 * The destinations are `FortiOsLogs`, which the FortiManager uses for its own logs too.
 *
 * Each destination numbers its own logs; a lab that wants "none lost" checks should send a
 * FortiGate's logs to an analyzer over one destination only.
 *
 * With `replay: FILE` it logs the lines of a real log file instead of generated logs, at their
 * original pace on the lab clock (src/protocols/syslog/replay.ts): syslog destinations send each
 * line as it is, OFTP the FortiOS records (the logs that are not FortiOS are left out); `replay-started`
 * says at the first start what the file holds and what of it is never sent.
 */
import * as fs from "node:fs"
import * as Effect from "effect/Effect"
import { formatKeyValues } from "../../protocols/fortios/kv.ts"
import { type LogKind, makeFortiOsLog } from "../../protocols/fortios/logs.ts"
import { SEVERITIES } from "../../protocols/syslog/encode.ts"
import { readReplayFile, ReplayFeed, type ReplayFile } from "../../protocols/syslog/replay.ts"
import type { DeviceContext, DeviceStatus, LogSource } from "../device.ts"
import type { Halt } from "../shared/listener-run.ts"
import { seededRandom } from "../shared/random.ts"
import { type MakeLog, SyslogSender, type SyslogSenderSettings } from "../shared/syslog-sender.ts"
import { FazLogger, type FazLoggerSettings, type FortiGateIdentity } from "./faz-logger.ts"
import { fgfmToManager } from "./fgfm-client.ts"
import type { FgfmDeviceLink } from "../shared/fgfm-device-link.ts"
import { pickKind } from "./log-mix.ts"
import type { FortiGateSpec } from "./settings.ts"

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

/**
 * Where a FortiOS device sends its own logs: `log syslogd` (the syslog sender) and
 * `log fortianalyzer` (OFTP, or UDP/514 with `reliable disable`). The FortiGate and the
 * FortiManager log the same way; `defaultLogs` stands where the scenario names no log kinds.
 */
export class FortiOsLogs {
  /** `log fortianalyzer` over OFTP. */
  readonly faz: FazLogger | null
  /** `log syslogd`, and `log fortianalyzer` with `reliable disable` (UDP/514). */
  readonly #senders: ReadonlyArray<SyslogSender>

  constructor(options: {
    readonly device: FortiGateIdentity
    readonly kind: string
    readonly syslog: SyslogSenderSettings | null
    readonly fortianalyzer: FazLoggerSettings | null
    readonly defaultLogs: ReadonlyArray<LogKind> | null
    readonly context: DeviceContext
    /** A log file's logs to send instead of generated ones (`replay:`), each destination its own feed. */
    readonly replay?: ReplayFile | null
  }) {
    const { device, kind, context, defaultLogs } = options
    const replay = options.replay ?? null
    const sender = (settings: SyslogSenderSettings) =>
      new SyslogSender({
        id: device.id,
        kind,
        hostname: device.hostname,
        settings,
        context,
        announce: false,
        makeLog: fortiGateLogMaker(device, settings.logs ?? defaultLogs),
        replay: replay === null ? null : new ReplayFeed(replay.logs, ORIGINAL_PACE)
      })
    const faz = options.fortianalyzer
    this.faz = faz !== null && faz.reliable === "enable"
      ? new FazLogger(device, { ...faz, logs: faz.logs ?? defaultLogs }, context, replay === null ? null : new ReplayFeed(replay.logs.filter((log) => log.record !== null), ORIGINAL_PACE))
      : null
    this.#senders = [
      ...(options.syslog === null ? [] : [sender(options.syslog)]),
      ...(faz !== null && faz.reliable === "disable"
        ? [sender({ server: faz.server, mode: "udp", format: "default", facility: "local7", port: 514, rate: faz.rate, count: faz.count, logs: faz.logs })]
        : [])
    ]
  }

  /** Highest sequence number generated for `analyzer` over syslog or OFTP (0 when it sends it nothing). */
  sentTo(analyzer: string): number {
    const viaSyslog = this.#senders.filter((sender) => sender.settings.server === analyzer).reduce((max, s) => Math.max(max, s.sent), 0)
    const viaOftp = this.faz !== null && this.faz.settings.server === analyzer ? this.faz.sent : 0
    return Math.max(viaSyslog, viaOftp)
  }

  /** The syslog senders, then OFTP. */
  start(): Effect.Effect<void> {
    const self = this
    return Effect.gen(function*() {
      for (const sender of self.#senders) yield* sender.start()
      self.faz?.start()
    })
  }

  /** The syslog senders stop; then OFTP says goodbye (clean) or is cut (crash). */
  halt(how: Halt): Effect.Effect<void> {
    const self = this
    return Effect.gen(function*() {
      for (const sender of self.#senders) yield* sender.stop()
      if (how === "clean") self.faz?.stop()
      else self.faz?.kill()
    })
  }

  pause(): void {
    for (const sender of this.#senders) sender.pause()
    this.faz?.pause()
  }

  resume(): void {
    for (const sender of this.#senders) sender.resume()
    this.faz?.resume()
  }

  burst(count: number): void {
    for (const sender of this.#senders) sender.burst(count)
    this.faz?.burst(count)
  }

  dispose(): Effect.Effect<void> {
    const self = this
    return Effect.gen(function*() {
      for (const sender of self.#senders) yield* sender.dispose()
      self.faz?.dispose()
    })
  }
}

/** A replay in a lab goes at the file's own pace, on the lab clock (which `speed` may run faster). */
const ORIGINAL_PACE = { speed: 1 }

export class FortiGate implements LogSource {
  readonly kind = "fortigate"
  readonly id: string
  readonly hostname: string
  readonly serial: string
  /** `log syslogd` and `log fortianalyzer`. */
  readonly #logs: FortiOsLogs
  /** `log fortianalyzer` over OFTP. */
  readonly faz: FazLogger | null
  /** `central-management`: FGFM to a FortiManager. */
  readonly fgfm: FgfmDeviceLink | null
  readonly #context: DeviceContext
  /** The file it replays (`replay:`), said once at its first start. */
  #replay: { readonly file: string; readonly read: ReplayFile } | null
  #started = false

  constructor(id: string, settings: FortiGateSpec, context: DeviceContext) {
    this.id = id
    this.#context = context
    this.hostname = settings.hostname
    this.serial = settings.serial
    const identity: FortiGateIdentity = { id, ...settings }
    this.fgfm = settings.centralManagement === null ? null : fgfmToManager(identity, settings.centralManagement, context)
    // The loader checked the file and made its path absolute (the kind's `files`).
    this.#replay = settings.replay === null ? null : { file: settings.replay, read: readReplayFile(fs.readFileSync(settings.replay, "utf8")) }
    this.#logs = new FortiOsLogs({
      device: identity,
      kind: "fortigate",
      syslog: settings.syslog,
      fortianalyzer: settings.fortianalyzer,
      defaultLogs: null,
      context,
      replay: this.#replay?.read ?? null
    })
    this.faz = this.#logs.faz
  }

  status(): DeviceStatus {
    return this.#started ? "running" : "stopped"
  }

  sentTo(analyzer: string): number {
    return this.#logs.sentTo(analyzer)
  }

  start(): Effect.Effect<void> {
    const self = this
    return Effect.gen(function*() {
      if (self.#started) return
      self.#announceReplay()
      yield* self.#logs.start()
      self.fgfm?.start()
      self.#started = true
      self.#context.bus.publish({ type: "device-started", device: self.id, kind: self.kind })
    })
  }

  stop(): Effect.Effect<void> {
    return this.#halt("clean")
  }

  /** `replay-started`, once: what the file holds, and what of it is never sent. */
  #announceReplay(): void {
    const replay = this.#replay
    if (replay === null) return
    this.#replay = null
    const { logs, skipped, firstSkipped } = replay.read
    const notFortiOs = this.faz === null ? 0 : logs.filter((log) => log.record === null).length
    const reason = `replays ${logs.length} ${logs.length === 1 ? "log" : "logs"} of ${replay.file} at their original pace` +
      (skipped === 0 ? "" : `; ${skipped} ${skipped === 1 ? "line is" : "lines are"} not logs and ${skipped === 1 ? "is" : "are"} not sent (the first at line ${firstSkipped})`) +
      (notFortiOs === 0 ? "" : `; ${notFortiOs} ${notFortiOs === 1 ? "log is" : "logs are"} not FortiOS key=value and not sent over OFTP`)
    this.#context.bus.publish({ type: "replay-started", device: this.id, file: replay.file, logs: logs.length, skipped, reason })
  }

  /** Abrupt: links are cut with no goodbye. */
  kill(): Effect.Effect<void> {
    return this.#halt("crash")
  }

  #halt(how: Halt): Effect.Effect<void> {
    const self = this
    return Effect.gen(function*() {
      if (!self.#started) return
      yield* self.#logs.halt(how)
      if (how === "clean") self.fgfm?.stop()
      else self.fgfm?.kill()
      self.#started = false
      self.#context.bus.publish({ type: "device-stopped", device: self.id, kind: self.kind })
    })
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

  dispose(): Effect.Effect<void> {
    const self = this
    return Effect.gen(function*() {
      yield* self.stop()
      yield* self.#logs.dispose()
      self.fgfm?.dispose()
    })
  }
}
