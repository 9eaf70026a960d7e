/**
 * The analyzer's clock sync (`config system ntp`): with `status enable`, it asks its first
 * `ntpserver` over UDP/123 from its lab address when it starts and every `sync_interval` minutes
 * of lab time, and reports the server's stratum, its own offset from the server and the round-trip
 * delay (RFC 5905 §8) as an `ntp-sync` event; a server that does not answer within 2 s, or
 * answers unsynchronized (stratum 0 or 16), is said with the reason. The analyzer's own clock is
 * this machine's: fazlab reports the offset, it does not step any clock.
 */
import * as dgram from "node:dgram"
import { isIP } from "node:net"
import * as Schema from "effect/Schema"
import type { EventBus } from "../../events/bus.ts"
import type { LabClock } from "../../machines/clock.ts"
import type { PortPlan } from "../../net/port-plan.ts"
import { decodeNtp, encodeNtp, offsetAndDelay } from "../../protocols/ntp/packet.ts"
import { Server, settingsStruct, wholeNumber, withDefault } from "../settings.ts"

/** `config system ntp` (FortiAnalyzer's names: `sync_interval` in minutes, `config ntpserver`). */
export const AnalyzerNtpSettings = settingsStruct({
  status: withDefault(Schema.Literals(["enable", "disable"]), "disable"),
  syncInterval: withDefault(wholeNumber(1, 1440), 60),
  ntpserver: withDefault(Schema.Array(settingsStruct({ id: wholeNumber(1, 9999), server: Server })), [])
}, { syncInterval: "sync_interval" })
export type AnalyzerNtpSettings = typeof AnalyzerNtpSettings.Type

/** Milliseconds an NTP request waits for its answer (a real-time limit: the network's, not the lab's). */
const NTP_TIMEOUT_MS = 2000

export interface NtpSyncOptions {
  readonly analyzer: string
  readonly bus: EventBus
  readonly plan: PortPlan
  readonly clock: LabClock
  readonly settings: AnalyzerNtpSettings
}

export class NtpSync {
  readonly #options: NtpSyncOptions
  #timer: unknown = null
  #running = false

  constructor(options: NtpSyncOptions) {
    this.#options = options
  }

  start(): void {
    const { settings } = this.#options
    if (settings.status !== "enable" || settings.ntpserver.length === 0 || this.#running) return
    this.#running = true
    this.#sync()
  }

  stop(): void {
    this.#running = false
    if (this.#timer !== null) this.#options.clock.clearTimeout(this.#timer)
    this.#timer = null
  }

  #sync(): void {
    const { analyzer, bus, plan, clock, settings } = this.#options
    const server = settings.ntpserver[0]?.server ?? ""
    void ask(plan, analyzer, server).then((result) => {
      if (!this.#running) return
      bus.publish(
        typeof result === "string"
          ? { type: "ntp-sync", device: analyzer, server, stratum: null, offset: null, delay: null, reason: `${analyzer} could not sync its clock from ${server}: ${result}` }
          : {
            type: "ntp-sync",
            device: analyzer,
            server,
            stratum: result.stratum,
            offset: result.offset,
            delay: result.delay,
            reason: `${analyzer} synced from ${server} (stratum ${result.stratum}): offset ${signedMs(result.offset)}, delay ${result.delay.toFixed(1)} ms`
          }
      )
      this.#timer = clock.setTimeout(() => this.#sync(), settings.syncInterval * 60_000)
    })
  }
}

const signedMs = (ms: number): string => `${ms < 0 ? "" : "+"}${ms.toFixed(1)} ms`

/** One request and answer; a sentence when there is none. */
const ask = (plan: PortPlan, analyzer: string, server: string): Promise<{ readonly stratum: number; readonly offset: number; readonly delay: number } | string> =>
  new Promise((resolve) => {
    const target = isIP(server) === 4 ? { address: server, actualPort: 123 } : plan.resolve(server, "udp/123")
    if (target.actualPort === 0) return resolve(`${server} does not listen on udp/123`)
    const socket = dgram.createSocket("udp4")
    const t1 = Date.now()
    const done = (result: { readonly stratum: number; readonly offset: number; readonly delay: number } | string) => {
      clearTimeout(timer)
      socket.close()
      resolve(result)
    }
    const timer = setTimeout(() => done(`no answer within ${NTP_TIMEOUT_MS / 1000} s`), NTP_TIMEOUT_MS)
    socket.on("error", (cause) => done(cause.message))
    socket.on("message", (message) => {
      const t4 = Date.now()
      const answer = decodeNtp(message)
      if (typeof answer === "string" || answer.mode !== 4 || Math.abs(answer.origin - t1) > 1) return
      if (answer.stratum === 0 || answer.stratum >= 16) return done(`the server is unsynchronized (stratum ${answer.stratum})`)
      const { offset, delay } = offsetAndDelay(t1, answer.receive, answer.transmit, t4)
      done({ stratum: answer.stratum, offset, delay })
    })
    const local = plan.sourceAddressOf(analyzer)
    socket.bind({ port: 0, ...(local === undefined ? {} : { address: local }) }, () =>
      socket.send(encodeNtp({ leap: 3, version: 4, mode: 3, stratum: 0, poll: 6, precision: -20, referenceId: "", reference: 0, origin: 0, receive: 0, transmit: t1 }), target.actualPort, target.address))
  })
