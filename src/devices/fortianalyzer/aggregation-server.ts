/**
 * The analyzer's TCP/3000, the vendor table's "Management · Log aggregation": the server side of
 * log aggregation (`config system log-forward-service`, `accept-aggregation enable`). Another
 * analyzer with a `log-forward` entry of mode `aggregation` connects (TLS, the lab's
 * certificates), logs in as one of this analyzer's administrators (`agg-user`, `agg-password`),
 * learns what this analyzer holds already, and sends the rest (`protocols/aggregation/frames.ts`).
 *
 * Each batch is stored in one transaction, each log once per origin and origin id
 * (`LogStore.appendSynced`, the same bookkeeping as HA sync), and acknowledged (`stored`) only
 * after its commit: a batch sent again after a lost acknowledgement is counted as duplicates,
 * nothing acknowledged is lost. With `accept-aggregation disable` (the default, as on
 * FortiAnalyzer) it listens, and refuses every session with `not-accepted`.
 *
 * Each batch is a `log-aggregation` event (`stored`); a refused session or a frame that is not
 * one is counted by code (`refused`), answered with an `error` frame and published as
 * `log-aggregation` `refused` with why.
 */
import type * as net from "node:net"
import type * as tls from "node:tls"
import * as Schema from "effect/Schema"
import type { EventBus } from "../../events/bus.ts"
import type { PortKey } from "../../events/events.ts"
import { peerOf } from "../../net/tcp.ts"
import { type TlsHandshakeError, upgradeToTls } from "../../net/tls.ts"
import {
  AGGREGATION_MAX_LINE_BYTES,
  type AggregationErrorCode,
  decodeAggregationLine,
  encodeAggregationFrame
} from "../../protocols/aggregation/frames.ts"
import { LineReader } from "../../protocols/shared/line-reader.ts"
import type { LogStore } from "../../store/log-store.ts"
import { settingsStruct, withDefault } from "../settings.ts"
import { endGracefully } from "../shared/tls-sessions.ts"
import type { AdminAccounts } from "./admin.ts"

export const AGGREGATION_PORT: PortKey = "tcp/3000"

/** From TCP accept to the end of the TLS handshake. */
const HANDSHAKE_TIMEOUT_MS = 10_000

/** `config system log-forward-service`: whether this analyzer takes aggregated logs. */
export const LogForwardService = settingsStruct({
  acceptAggregation: withDefault(Schema.Literals(["enable", "disable"]), "disable")
})
export type LogForwardService = typeof LogForwardService.Type

export interface AggregationServerOptions {
  readonly device: string
  readonly serial: string
  readonly bus: EventBus
  readonly store: LogStore
  readonly admins: AdminAccounts
  readonly settings: LogForwardService
  /** Server options with the analyzer's certificate. */
  readonly tls: tls.TlsOptions
}

export class AggregationServer {
  readonly #options: AggregationServerOptions
  /** Sessions refused and frames that were not frames, by code (`handshake-failed` for TLS). */
  readonly refused = new Map<AggregationErrorCode | "handshake-failed", number>()
  /** Logs stored from aggregation clients, and logs they sent that were here already. */
  stored = 0
  duplicates = 0

  constructor(options: AggregationServerOptions) {
    this.#options = options
  }

  accept(socket: net.Socket): void {
    const peer = peerOf(socket)
    upgradeToTls(socket, { tls: this.#options.tls, handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS }).then(
      (secure) => this.#session(secure, peer),
      (error: TlsHandshakeError) => this.#refused(peer, null, "handshake-failed", error.message)
    )
  }

  #session(secure: tls.TLSSocket, peer: string): void {
    const { bus, device, store, admins, settings, serial } = this.#options
    const reader = new LineReader(AGGREGATION_MAX_LINE_BYTES)
    let client: string | null = null
    let ready = false
    const refuse = (code: AggregationErrorCode, reason: string) => {
      this.#refused(peer, client, code, reason)
      secure.removeAllListeners("data")
      secure.write(encodeAggregationFrame({ type: "error", code, reason }))
      endGracefully(secure)
    }
    secure.on("error", () => undefined)
    /** Handles the lines in order; a hello pauses the socket until its login is answered, then the rest follow. */
    const handle = (lines: ReadonlyArray<string>): void => {
      for (const [i, line] of lines.entries()) {
        const frame = decodeAggregationLine(line)
        if (frame === null) return refuse("bad-frame", `"${line.slice(0, 60)}" is not an aggregation frame (docs/protocols/log-aggregation.md)`)
        if (frame.type === "hello") {
          client = frame.serial
          if (settings.acceptAggregation === "disable") {
            return refuse("not-accepted", `${device} does not accept aggregated logs; set log-forward-service accept-aggregation enable on it`)
          }
          // The login may ask the lab's LDAP or RADIUS server: what follows waits for its answer.
          secure.pause()
          void admins.password(frame.user, frame.password, "jsonrpc").then((login) => {
            if (!login.ok) return refuse("auth-failed", `agg-user ${frame.user} cannot log in to ${device}: ${login.reason}`)
            ready = true
            secure.write(encodeAggregationFrame({ type: "ready", serial, positions: store.syncPositions() }))
            handle(lines.slice(i + 1))
            secure.resume()
          })
          return
        } else if (frame.type === "logs") {
          if (!ready) return refuse("bad-frame", "logs before hello")
          const records = frame.records.map((record) => ({ ...record.log, origin: record.origin, originId: record.originId }))
          let stored: number
          try {
            stored = store.appendSynced(records)
          } catch (cause) {
            return refuse("store-failed", cause instanceof Error ? cause.message : String(cause))
          }
          const duplicates = records.length - stored
          this.stored += stored
          this.duplicates += duplicates
          secure.write(encodeAggregationFrame({ type: "stored", stored, duplicates }))
          bus.publish({
            type: "log-aggregation",
            device,
            peer: client ?? peer,
            role: "server",
            state: "stored",
            count: stored,
            reason: `stored ${stored} aggregated logs from ${client}${duplicates === 0 ? "" : `; ${duplicates} it had already`}`
          })
        } else if (frame.type === "done") {
          secure.removeAllListeners("data")
          secure.write(encodeAggregationFrame({ type: "bye" }))
          endGracefully(secure)
          return
        } else {
          return refuse("bad-frame", `a ${frame.type} frame is the server's to send`)
        }
      }
    }
    secure.on("data", (chunk: Buffer) => {
      const { lines, tooLong } = reader.push(chunk)
      if (tooLong) return refuse("bad-frame", `a line longer than ${AGGREGATION_MAX_LINE_BYTES} bytes`)
      handle(lines)
    })
  }

  #refused(peer: string, client: string | null, code: AggregationErrorCode | "handshake-failed", reason: string): void {
    this.refused.set(code, (this.refused.get(code) ?? 0) + 1)
    this.#options.bus.publish({ type: "log-aggregation", device: this.#options.device, peer: client ?? peer, role: "server", state: "refused", count: 0, reason: `refused (${code}): ${reason}` })
  }
}
