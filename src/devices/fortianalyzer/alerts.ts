/**
 * The analyzer's alerts: the lab events its event handlers and SNMP watch, turned into one
 * `analyzer-alert` event each and handed to the analyzer's notifiers (SNMP traps, alert email).
 *
 * - `device-offline`: an OFTP session of a registered device that was online closed.
 * - `ha-switch`: the analyzer switched HA role (secondary to primary or back; taking its first
 *   role when it starts is no switch).
 * - `cpu-high`, `mem-low`, `disk-low`: the emulated CPU, memory or log-disk usage (set by the
 *   `load` action) rose to or over its threshold (`config system snmp sysinfo`
 *   `trap-high-cpu-threshold`, `trap-low-memory-threshold`; the log-disk one is fazlab's); said
 *   once per crossing, again only after the usage fell below it.
 */
import type { EventBus } from "../../events/bus.ts"
import type { LabEvent } from "../../events/events.ts"
import { settingsStruct, wholeNumber, withDefault } from "../settings.ts"

export const ALERT_KINDS = ["device-offline", "ha-switch", "cpu-high", "mem-low", "disk-low"] as const
export type AlertKind = (typeof ALERT_KINDS)[number]

export interface Alert {
  readonly kind: AlertKind
  /** One sentence, as an event handler's notification says it. */
  readonly message: string
  /** The device it is about (a serial), if any. */
  readonly subject: string | null
}

/** `config system snmp sysinfo` thresholds, in percent. */
export const AlertThresholds = settingsStruct({
  trapHighCpuThreshold: withDefault(wholeNumber(1, 100), 80),
  trapLowMemoryThreshold: withDefault(wholeNumber(1, 100), 80),
  /** fazlab's: log-disk usage that raises `disk_low`. */
  logDiskThreshold: withDefault(wholeNumber(1, 100), 90)
})
export type AlertThresholds = typeof AlertThresholds.Type

/** The emulated usage the `load` action sets, in percent; a missing one stays as it was. */
export interface AnalyzerLoad {
  readonly cpu?: number
  readonly memory?: number
  readonly logDisk?: number
}

export type AlertSink = (alert: Alert) => void

export class AnalyzerAlerts {
  readonly #analyzer: string
  readonly #bus: EventBus
  readonly #thresholds: AlertThresholds
  readonly #sinks: ReadonlyArray<AlertSink>
  readonly #online = new Set<string>()
  #role: "primary" | "secondary" | null = null
  #unsubscribe: (() => void) | null = null
  #load: Required<AnalyzerLoad> = { cpu: 0, memory: 0, logDisk: 0 }

  constructor(options: { readonly analyzer: string; readonly bus: EventBus; readonly thresholds: AlertThresholds; readonly sinks: ReadonlyArray<AlertSink> }) {
    this.#analyzer = options.analyzer
    this.#bus = options.bus
    this.#thresholds = options.thresholds
    this.#sinks = options.sinks
  }

  get load(): Required<AnalyzerLoad> {
    return this.#load
  }

  start(): void {
    this.#unsubscribe ??= this.#bus.subscribe(this.#watch)
  }

  stop(): void {
    this.#unsubscribe?.()
    this.#unsubscribe = null
    this.#online.clear()
    this.#role = null
  }

  readonly #watch = (event: LabEvent): void => {
    if (event.type === "oftp-session" && event.device === this.#analyzer && event.serial !== null) {
      if (event.state === "online") this.#online.add(event.serial)
      else if (event.state === "closed" && this.#online.delete(event.serial)) {
        this.raise({ kind: "device-offline", subject: event.serial, message: `Device ${event.serial} is offline: its OFTP session to ${this.#analyzer} closed (${event.reason})` })
      }
    } else if (event.type === "ha-role" && event.device === this.#analyzer && event.role !== "none") {
      const before = this.#role
      this.#role = event.role
      if (before !== null && before !== event.role) {
        this.raise({ kind: "ha-switch", subject: null, message: `${this.#analyzer} switched from ${before} to ${event.role} in HA group ${event.group}: ${event.reason}` })
      }
    }
  }

  /** Sets the emulated usage; each one that crosses its threshold upwards raises its alert. */
  setLoad(load: AnalyzerLoad): void {
    const before = this.#load
    const after = { cpu: load.cpu ?? before.cpu, memory: load.memory ?? before.memory, logDisk: load.logDisk ?? before.logDisk }
    this.#load = after
    const t = this.#thresholds
    const crossed = (was: number, now: number, threshold: number) => was < threshold && now >= threshold
    if (crossed(before.cpu, after.cpu, t.trapHighCpuThreshold)) {
      this.raise({ kind: "cpu-high", subject: null, message: `CPU usage of ${this.#analyzer} is ${after.cpu}%, at or over trap-high-cpu-threshold ${t.trapHighCpuThreshold}%` })
    }
    if (crossed(before.memory, after.memory, t.trapLowMemoryThreshold)) {
      this.raise({ kind: "mem-low", subject: null, message: `memory usage of ${this.#analyzer} is ${after.memory}%, at or over trap-low-memory-threshold ${t.trapLowMemoryThreshold}%` })
    }
    if (crossed(before.logDisk, after.logDisk, t.logDiskThreshold)) {
      this.raise({ kind: "disk-low", subject: null, message: `log disk of ${this.#analyzer} is ${after.logDisk}% full, at or over log-disk-threshold ${t.logDiskThreshold}%` })
    }
  }

  raise(alert: Alert): void {
    this.#bus.publish({ type: "analyzer-alert", device: this.#analyzer, alert: alert.kind, subject: alert.subject, message: alert.message })
    for (const sink of this.#sinks) sink(alert)
  }
}
