/**
 * The analyzer's HTTPS endpoints from the vendor table, for FortiClient:
 *
 * - TCP/8443 "Logs from Chromebook": FortiClient for Chromebook POSTs its logs as JSON.
 * - TLS/443 "Fabric Member": a FortiClient joins the Security Fabric and lands in the device
 *   registry, like an OFTP device. Every other request on TLS/443 goes to the web admin and the
 *   JSON-RPC API (`web-admin.ts`): one HTTPS server on the port, as on a real unit.
 *
 * Fortinet does not publish these request formats: the paths and JSON bodies are fazlab's own
 * (docs/protocols/forticlient-https.md), served over real HTTPS with the analyzer's
 * certificate, so `curl --cacert ca.pem` talks to them. Bad requests get a 4xx with a sentence
 * and are counted as malformed ("bad-json"); nothing here throws into the listener.
 */
import * as http from "node:http"
import * as https from "node:https"
import type * as net from "node:net"
import * as Schema from "effect/Schema"
import * as Result from "effect/Result"
import type { PortKey } from "../../events/events.ts"
import { formatKeyValues } from "../../protocols/fortios/kv.ts"
import type { LogStore } from "../../store/log-store.ts"
import type { StoreWriter } from "./store-writer.ts"
import type { TlsIntakeOptions } from "../shared/tls-sessions.ts"
import type { SyslogIntake } from "./syslog-intake.ts"
import { answerAsFortinet } from "./web-admin.ts"

/** Largest request body accepted, in bytes (named limit `max-body-bytes`). */
export const MAX_BODY_BYTES = 1024 * 1024

const FieldValue = Schema.Union([Schema.String, Schema.Number, Schema.Boolean])

/** POST /api/v1/logs on TCP/8443. */
export const ChromebookLogs = Schema.Struct({
  serial: Schema.NonEmptyString,
  hostname: Schema.NonEmptyString,
  logs: Schema.Array(Schema.Record(Schema.String, FieldValue))
})
export type ChromebookLogs = typeof ChromebookLogs.Type

/** POST /api/v1/fabric/join on TLS/443. */
export const FabricJoin = Schema.Struct({
  serial: Schema.NonEmptyString,
  hostname: Schema.NonEmptyString,
  platform: Schema.optionalKey(Schema.String),
  version: Schema.optionalKey(Schema.String)
})
export type FabricJoin = typeof FabricJoin.Type

const decodeLogs = Schema.decodeUnknownResult(Schema.fromJsonString(ChromebookLogs))
const decodeJoin = Schema.decodeUnknownResult(Schema.fromJsonString(FabricJoin))

/** Schema's "Expected string\n  at ["serial"]" as one line: "Expected string at ["serial"]". */
const oneLine = (error: { readonly message: string }): string => error.message.replace(/\s*\n\s*/g, " ")

const LEVELS: Readonly<Record<string, number>> = {
  emergency: 0, alert: 1, critical: 2, error: 3, warning: 4, notice: 5, information: 6, info: 6, debug: 7
}

export interface HttpsIntakeOptions extends TlsIntakeOptions {
  readonly store: LogStore
  readonly writer: StoreWriter
  /** The analyzer's syslog intake: its malformed counters count bad requests too. */
  readonly intake: SyslogIntake
  /** TLS/443's other requests: the web admin and the JSON-RPC API (`web-admin.ts`). */
  readonly admin: (request: http.IncomingMessage, response: http.ServerResponse) => void
}

export class HttpsIntake {
  readonly #options: HttpsIntakeOptions
  readonly #servers: ReadonlyMap<PortKey, https.Server>

  constructor(options: HttpsIntakeOptions) {
    this.#options = options
    const make = (port: PortKey) => {
      const server = answerAsFortinet(https.createServer(options.tls, (request, response) => this.#handle(port, request, response)))
      server.on("tlsClientError", () => undefined)
      return server
    }
    this.#servers = new Map([["tcp/8443", make("tcp/8443")], ["tcp/443", make("tcp/443")]])
  }

  /** Hands an accepted connection on one of the HTTPS ports to its server. */
  connection(port: PortKey, socket: net.Socket): void {
    this.#servers.get(port)?.emit("connection", socket)
  }

  #handle(port: PortKey, request: http.IncomingMessage, response: http.ServerResponse): void {
    const peer = `${request.socket.remoteAddress ?? "?"}:${request.socket.remotePort ?? 0}`
    const reply = (status: number, body: unknown) => {
      response.writeHead(status, { "content-type": "application/json" })
      response.end(`${JSON.stringify(body)}\n`)
    }
    const route = `${request.method ?? "GET"} ${request.url ?? "/"}`
    const expected = port === "tcp/8443" ? "POST /api/v1/logs" : "POST /api/v1/fabric/join"
    if (port === "tcp/443" && route !== expected) {
      this.#options.admin(request, response)
      return
    }
    if (route !== expected) {
      reply(404, { error: `${route} is not served on ${port}; use ${expected}` })
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    request.on("data", (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        this.#options.intake.reject(port, peer, "frame-too-large", `request body over max-body-bytes ${MAX_BODY_BYTES}`)
        reply(413, { error: `the body is over max-body-bytes (${MAX_BODY_BYTES} bytes)` })
        request.destroy()
        return
      }
      chunks.push(chunk)
    })
    request.on("end", () => {
      if (size > MAX_BODY_BYTES) return
      const text = Buffer.concat(chunks).toString("utf8")
      if (port === "tcp/8443") this.#logs(port, peer, text, reply)
      else this.#join(port, peer, text, reply)
    })
  }

  #logs(port: PortKey, peer: string, text: string, reply: (status: number, body: unknown) => void): void {
    const decoded = decodeLogs(text)
    if (Result.isFailure(decoded)) {
      const detail = `the body must be JSON {"serial", "hostname", "logs": [{...}]}: ${oneLine(decoded.failure)}`
      this.#options.intake.reject(port, peer, "bad-json", detail)
      reply(400, { error: detail })
      return
    }
    const { serial, hostname, logs } = decoded.success
    const now = Date.now()
    for (const log of logs) {
      const fields: Record<string, string> = {}
      for (const [key, value] of Object.entries(log)) fields[key] = String(value)
      const seq = fields["fazlab_seq"] === undefined ? null : Number.parseInt(fields["fazlab_seq"], 10)
      this.#options.writer.add({
        receivedAt: now,
        transport: "tcp",
        peer,
        format: "fortios",
        facility: 23,
        severity: LEVELS[fields["level"] ?? ""] ?? 6,
        device: hostname,
        devid: serial,
        logid: fields["logid"] ?? null,
        type: fields["type"] ?? null,
        subtype: fields["subtype"] ?? null,
        level: fields["level"] ?? null,
        eventtime: fields["eventtime"] ?? null,
        seq: seq === null || Number.isNaN(seq) ? null : seq,
        raw: formatKeyValues(Object.entries(fields)),
        fields
      })
    }
    this.#options.intake.received += logs.length
    // 200 is the device's acknowledgement: it drops the logs from its queue. So they are stored
    // durably first; when the store refuses them, 503 makes the device send them again.
    if (this.#options.writer.flush()) reply(200, { stored: logs.length })
    else reply(503, { error: `${this.#options.device} could not store the logs (see its store-failed event); send them again` })
  }

  #join(port: PortKey, peer: string, text: string, reply: (status: number, body: unknown) => void): void {
    const decoded = decodeJoin(text)
    if (Result.isFailure(decoded)) {
      const detail = `the body must be JSON {"serial", "hostname"}: ${oneLine(decoded.failure)}`
      this.#options.intake.reject(port, peer, "bad-json", detail)
      reply(400, { error: detail })
      return
    }
    const join = decoded.success
    const ip = peer.slice(0, peer.lastIndexOf(":"))
    const known = this.#options.store.devices.get(join.serial) !== undefined
    const device = this.#options.store.devices.seen(
      { serial: join.serial, name: join.hostname, platform: join.platform ?? "FortiClient", version: join.version ?? "v7.4.0", ip, vdoms: [] },
      Date.now()
    )
    this.#options.bus.publish({ type: "device-registered", device: this.#options.device, serial: device.serial, name: device.name, ip, status: device.state, firstSeen: !known })
    reply(200, { status: device.state === "authorized" ? "authorized" : "pending", analyzerSerial: this.#options.serial, adom: device.adom })
  }

  close(): void {
    for (const server of this.#servers.values()) server.close()
  }
}
