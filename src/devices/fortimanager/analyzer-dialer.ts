/**
 * The FortiManager's side of managing FortiAnalyzers (Device Manager → Add Device, by address):
 * for each analyzer of `managed-analyzers` it connects to the analyzer's TCP/541 (TLS; the
 * analyzer's certificate must chain to the lab CA), and hands the link to its FGFM server, which
 * sends `request=discover`; the analyzer registers there as a FortiGate would, and shows in the
 * FortiManager's device list. When the session ends, or the connection fails, it connects again
 * after `retry-interval` of lab time. Each attempt that fails, and each that connects, is an
 * `fgfm-discover` event.
 */
import type { DeviceContext } from "../device.ts"
import { errorMessage } from "../../machines/shared/reasons.ts"
import { DeviceDialer } from "../shared/client-link.ts"
import { FGFM_PORT } from "../shared/fgfm-device-link.ts"
import type { FgfmServer } from "./fgfm-server.ts"

export interface AnalyzerDialerOptions {
  /** The FortiManager, as events name it, and its serial (its client certificate's CN). */
  readonly manager: string
  readonly serial: string
  readonly context: DeviceContext
  readonly server: FgfmServer
  /** Bounds TCP connect + TLS. */
  readonly connectTimeoutMs: number
  readonly retryIntervalMs: number
}

export class AnalyzerDialer {
  readonly #options: AnalyzerDialerOptions
  readonly #abort = new AbortController()
  readonly #dialer: DeviceDialer

  constructor(options: AnalyzerDialerOptions) {
    this.#options = options
    this.#dialer = new DeviceDialer(options.context, { id: options.manager, serial: options.serial })
  }

  /** Starts managing each analyzer (a lab analyzer's id, or host / host:port outside the lab). */
  start(analyzers: ReadonlyArray<string>): void {
    for (const analyzer of analyzers) void this.#manage(analyzer)
  }

  /** Stops connecting, for good (a FortiManager's next start makes a new dialer); sessions already up end with the FGFM server. */
  stop(): void {
    this.#abort.abort()
  }

  async #manage(analyzer: string): Promise<void> {
    const { context, manager } = this.#options
    const signal = this.#abort.signal
    while (!signal.aborted) {
      const outcome = await this.#connect(analyzer).then(
        (secure) => ({ secure }),
        (error: unknown) => ({ error: errorMessage(error) })
      )
      if (signal.aborted) {
        if ("secure" in outcome) outcome.secure.destroy()
        return
      }
      if ("secure" in outcome) {
        context.bus.publish({ type: "fgfm-discover", manager, analyzer, state: "connected", reason: "TLS up, request=discover sent" })
        await this.#options.server.adopt(outcome.secure)
      } else {
        context.bus.publish({ type: "fgfm-discover", manager, analyzer, state: "failed", reason: outcome.error })
      }
      await this.#pause()
    }
  }

  #connect(analyzer: string) {
    return this.#dialer.dial({
      protocol: "FGFM",
      server: analyzer,
      port: FGFM_PORT,
      timeoutMs: this.#options.connectTimeoutMs,
      // The widest list: each analyzer's own settings decide what it accepts.
      tls: { encAlgorithm: "low", sslMinProtoVersion: "default" }
    }, this.#abort.signal)
  }

  /** `retry-interval` of lab time, cut short by `stop`. */
  #pause(): Promise<void> {
    const { clock } = this.#options.context
    const signal = this.#abort.signal
    return new Promise((resolve) => {
      if (signal.aborted) return resolve()
      const timer = clock.setTimeout(() => {
        signal.removeEventListener("abort", onAbort)
        resolve()
      }, this.#options.retryIntervalMs)
      const onAbort = () => {
        clock.clearTimeout(timer)
        resolve()
      }
      signal.addEventListener("abort", onAbort, { once: true })
    })
  }
}
