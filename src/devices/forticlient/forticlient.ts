/**
 * The emulated FortiClient endpoint, with the flows the vendor table lists for it:
 *
 * - syslog of its endpoint logs over UDP/514 or TCP/514 (`syslog`, mode udp | reliable);
 * - as FortiClient for Chromebook, logs as JSON over HTTPS to TCP/8443 (`chromebook`);
 * - as a Security Fabric member, a join over TLS/443 (`fabric`).
 *
 * It is identified by its hostname and FCT serial.
 */
import * as Effect from "effect/Effect"
import { formatKeyValues } from "../../protocols/fortios/kv.ts"
import { makeForticlientLog } from "../../protocols/forticlient/logs.ts"
import { SEVERITIES } from "../../protocols/syslog/encode.ts"
import type { DeviceContext, DeviceStatus, LogSource } from "../device.ts"
import { seededRandom } from "../shared/random.ts"
import { SyslogSender } from "../shared/syslog-sender.ts"
import { ChromebookUploader, joinFabric } from "./https-client.ts"
import type { FortiClientSpec } from "./settings.ts"

export class FortiClient implements LogSource {
  readonly kind = "forticlient"
  readonly id: string
  readonly hostname: string
  readonly serial: string
  readonly syslog: SyslogSender | null
  readonly chromebook: ChromebookUploader | null
  readonly #fabricServer: string | null
  readonly #context: DeviceContext
  #leaveFabric: (() => void) | null = null
  #started = false

  constructor(id: string, settings: FortiClientSpec, context: DeviceContext) {
    this.id = id
    this.hostname = settings.hostname
    this.serial = settings.serial
    this.#context = context
    const random = seededRandom(settings.serial)
    this.syslog = settings.syslog === null
      ? null
      : new SyslogSender({
        id,
        kind: "forticlient",
        hostname: settings.hostname,
        serial: settings.serial,
        settings: settings.syslog,
        context,
        announce: false,
        makeLog: (_seq, now) => {
          const log = makeForticlientLog({ hostname: settings.hostname, serial: settings.serial, user: "alice", now, random })
          return { message: formatKeyValues(log.fields), severity: SEVERITIES[log.level as keyof typeof SEVERITIES] ?? 6 }
        }
      })
    const endpoint = { id, serial: settings.serial, hostname: settings.hostname }
    this.chromebook = settings.chromebook === null ? null : new ChromebookUploader(endpoint, settings.chromebook, context)
    this.#fabricServer = settings.fabric?.server ?? null
  }

  status(): DeviceStatus {
    return this.#started ? "running" : "stopped"
  }

  sentTo(analyzer: string): number {
    return Math.max(
      this.syslog?.sentTo(analyzer) ?? 0,
      this.chromebook !== null && this.chromebook.settings.server === analyzer ? this.chromebook.sent : 0
    )
  }

  start(): Effect.Effect<void> {
    const self = this
    return Effect.gen(function*() {
      if (self.#started) return
      if (self.syslog !== null) yield* self.syslog.start()
      self.chromebook?.start()
      if (self.#fabricServer !== null) self.#leaveFabric = joinFabric({ id: self.id, serial: self.serial, hostname: self.hostname }, self.#fabricServer, self.#context)
      self.#started = true
      self.#context.bus.publish({ type: "device-started", device: self.id, kind: self.kind })
    })
  }

  stop(): Effect.Effect<void> {
    const self = this
    return Effect.gen(function*() {
      if (!self.#started) return
      if (self.syslog !== null) yield* self.syslog.stop()
      self.chromebook?.stop()
      self.#leaveFabric?.()
      self.#leaveFabric = null
      self.#started = false
      self.#context.bus.publish({ type: "device-stopped", device: self.id, kind: self.kind })
    })
  }

  kill(): Effect.Effect<void> {
    return this.stop()
  }

  pause(): void {
    this.syslog?.pause()
    this.chromebook?.pause()
  }

  resume(): void {
    this.syslog?.resume()
    this.chromebook?.resume()
  }

  burst(count: number): void {
    this.syslog?.burst(count)
    this.chromebook?.burst(count)
  }

  dispose(): Effect.Effect<void> {
    const self = this
    return Effect.gen(function*() {
      yield* self.stop()
      if (self.syslog !== null) yield* self.syslog.dispose()
    })
  }
}
