/**
 * The emulated FortiPortal: the vendor table's "FortiPortal → FortiAnalyzer, API communications
 * (JSON and XML), TCP/443 and TCP/8080". It binds nothing. For each analyzer of its
 * `fortianalyzers` it polls, at start and every `poll-interval` of lab time, as FortiPortal
 * refreshes the analyzers it keeps:
 *
 * - JSON on TLS/443: it logs in to the JSON-RPC API as `admin-user-name`, reads `get sys/status`
 *   (the analyzer's version, FortiPortal's `fazVersion`) and `get /dvmdb/device` (the devices the
 *   analyzer has), and logs out;
 * - XML on TCP/8080: it asks the analyzer's web service for its status with a SOAP request; a
 *   FortiAnalyzer 7.x has no XML API and answers with a SOAP fault, which FortiPortal records.
 *
 * Each poll is one `portal-poll` event: `ok` with what it read, or `failed` with why (FortiPortal's
 * `status` and `lastRunTime` per analyzer). The calls FortiPortal really makes are not published;
 * these are the public API's (docs/protocols/jsonrpc.md).
 */
import * as http from "node:http"
import * as Effect from "effect/Effect"
import { errorMessage } from "../../machines/shared/reasons.ts"
import { resolveServer } from "../../net/server-address.ts"
import type { Device, DeviceContext, DeviceStatus } from "../device.ts"
import { rpcCall } from "../fortianalyzer/management-client.ts"
import type { FortiPortalSpec, PortalAnalyzer } from "./settings.ts"

/** What FortiPortal keeps of an analyzer after its last poll. */
export interface PortalAnalyzerState {
  readonly server: string
  readonly status: "never" | "ok" | "failed"
  /** The version `get sys/status` gave, e.g. "v7.4.3-build2487 240514 (GA)". */
  readonly fazVersion: string | null
  readonly devices: number | null
  /** Lab time of the last poll, ms. */
  readonly lastRunTime: number | null
}

/** A SOAP 1.1 request for the analyzer's status (the FortiManager 5.4 XML API's style). */
const SOAP_STATUS_REQUEST = `<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body><getSystemStatus/></SOAP-ENV:Body></SOAP-ENV:Envelope>
`

/** POSTs the SOAP request to host:port; resolves with the HTTP status and the `faultstring`, if any. */
const askXml = (host: string, port: number, timeoutMs: number): Promise<{ readonly status: number; readonly fault: string | null }> =>
  new Promise((resolve, reject) => {
    const request = http.request({
      host,
      port,
      path: "/",
      method: "POST",
      timeout: timeoutMs,
      headers: { "content-type": "text/xml; charset=utf-8", soapaction: "getSystemStatus", "content-length": Buffer.byteLength(SOAP_STATUS_REQUEST) }
    }, (response) => {
      let body = ""
      response.setEncoding("utf8")
      response.on("data", (chunk: string) => (body += chunk))
      response.on("end", () => resolve({ status: response.statusCode ?? 0, fault: /<faultstring>([^<]*)<\/faultstring>/u.exec(body)?.[1] ?? null }))
    })
    request.on("timeout", () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)))
    request.on("error", (cause) => reject(new Error(`HTTP to ${host}:${port} failed: ${cause.message}`)))
    request.end(SOAP_STATUS_REQUEST)
  })

export class FortiPortal implements Device {
  readonly kind = "fortiportal"
  readonly id: string
  readonly serial: string
  readonly hostname: string
  readonly settings: FortiPortalSpec
  readonly #context: DeviceContext
  readonly #states = new Map<string, PortalAnalyzerState>()
  /** The poll timers of the current run; none while stopped. */
  readonly #timers = new Set<unknown>()
  #started = false

  constructor(id: string, settings: FortiPortalSpec, context: DeviceContext) {
    this.id = id
    this.serial = settings.serial
    this.hostname = settings.hostname
    this.settings = settings
    this.#context = context
    for (const entry of settings.fortianalyzers) {
      this.#states.set(entry.server, { server: entry.server, status: "never", fazVersion: null, devices: null, lastRunTime: null })
    }
  }

  status(): DeviceStatus {
    return this.#started ? "running" : "stopped"
  }

  /** What it knows of each analyzer it polls, in the order of its settings. */
  analyzers(): ReadonlyArray<PortalAnalyzerState> {
    return [...this.#states.values()]
  }

  start(): Effect.Effect<void> {
    return Effect.sync(() => {
      if (this.#started) return
      this.#started = true
      this.#context.bus.publish({ type: "device-started", device: this.id, kind: this.kind })
      for (const entry of this.settings.fortianalyzers) this.#schedule(entry, 0)
    })
  }

  stop(): Effect.Effect<void> {
    return Effect.sync(() => {
      if (!this.#started) return
      this.#started = false
      for (const timer of this.#timers) this.#context.clock.clearTimeout(timer)
      this.#timers.clear()
      this.#context.bus.publish({ type: "device-stopped", device: this.id, kind: this.kind })
    })
  }

  kill(): Effect.Effect<void> {
    return this.stop()
  }

  dispose(): Effect.Effect<void> {
    return this.stop()
  }

  #schedule(entry: PortalAnalyzer, delayMs: number): void {
    const { clock } = this.#context
    const timer = clock.setTimeout(() => {
      this.#timers.delete(timer)
      void this.#poll(entry).then(() => {
        if (this.#started) this.#schedule(entry, entry.pollInterval)
      })
    }, delayMs)
    this.#timers.add(timer)
  }

  /** One poll of one analyzer: JSON on TLS/443, then XML on TCP/8080; one `portal-poll` event. */
  async #poll(entry: PortalAnalyzer): Promise<void> {
    const { plan, pki, bus, clock } = this.#context
    const at = clock.now()
    const outcome = await (async () => {
      if (pki === null) throw new Error("the lab has no PKI: the JSON-RPC API needs TLS")
      const https = resolveServer(plan, entry.server, "tcp/443")
      const endpoint = { host: https.address, port: https.actualPort, user: entry.adminUserName, password: entry.password, apiKey: null }
      const status = await rpcCall(endpoint, pki.caPem, { method: "get", url: "/sys/status", data: undefined }, entry.timeout)
      if (status.code !== 0) throw new Error(`JSON-RPC get /sys/status answered ${status.code} (${status.message})`)
      const devices = await rpcCall(endpoint, pki.caPem, { method: "get", url: "/dvmdb/device", data: undefined }, entry.timeout)
      if (devices.code !== 0) throw new Error(`JSON-RPC get /dvmdb/device answered ${devices.code} (${devices.message})`)
      const xmlAt = resolveServer(plan, entry.server, "tcp/8080")
      const xml = await askXml(xmlAt.address, xmlAt.actualPort, entry.timeout)
      const version = (status.data as { readonly Version?: unknown } | null)?.Version
      return {
        fazVersion: typeof version === "string" ? version : null,
        devices: Array.isArray(devices.data) ? devices.data.length : 0,
        xml: xml.fault === null ? `HTTP ${xml.status}` : `SOAP fault: ${xml.fault}`
      }
    })().then((read) => ({ ok: true as const, ...read }), (error: unknown) => ({ ok: false as const, reason: errorMessage(error) }))
    if (!this.#started) return
    const previous = this.#states.get(entry.server)
    if (outcome.ok) {
      this.#states.set(entry.server, { server: entry.server, status: "ok", fazVersion: outcome.fazVersion, devices: outcome.devices, lastRunTime: at })
      bus.publish({ type: "portal-poll", device: this.id, analyzer: entry.server, status: "ok", fazVersion: outcome.fazVersion, devices: outcome.devices, reason: `JSON on 443: ${outcome.devices} devices; XML on 8080: ${outcome.xml}` })
    } else {
      this.#states.set(entry.server, { server: entry.server, status: "failed", fazVersion: previous?.fazVersion ?? null, devices: previous?.devices ?? null, lastRunTime: at })
      bus.publish({ type: "portal-poll", device: this.id, analyzer: entry.server, status: "failed", fazVersion: null, devices: null, reason: outcome.reason })
    }
  }
}
