/**
 * FortiClient's HTTPS flows to the analyzer (vendor table: "Logs from Chromebook TCP/8443",
 * "Fabric Member TLS/443"), in fazlab's emulated request format
 * (docs/protocols/forticlient-https.md):
 *
 * - `ChromebookUploader` generates endpoint logs at a rate and POSTs them as JSON batches once a
 *   second; a batch that fails stays queued (bounded, oldest dropped and counted) and is sent
 *   again on the next tick.
 * - `joinFabric` registers the endpoint as a Fabric member, retrying until the analyzer answers.
 */
import * as https from "node:https"
import * as Schema from "effect/Schema"
import { resolveServer } from "../../net/server-address.ts"
import type { DeviceContext } from "../device.ts"
import { makeForticlientLog } from "../../protocols/forticlient/logs.ts"
import { seededRandom } from "../shared/random.ts"
import { orNull, positiveCount, Rate, Server, withDefault } from "../settings.ts"

/** Logs a Chromebook keeps while the analyzer is away, before it drops the oldest. */
export const CHROMEBOOK_QUEUE_LIMIT = 10_000
const UPLOAD_INTERVAL_MS = 1000
const FABRIC_RETRY_MS = 5000

/** FortiClient for Chromebook: logs as JSON over HTTPS to the analyzer's TCP/8443. */
export const ChromebookSettings = Schema.Struct({
  server: Server,
  rate: withDefault(Rate, "10/s"),
  count: orNull(positiveCount)
})
export type ChromebookSettings = typeof ChromebookSettings.Type

/** FortiClient as a Security Fabric member: joins the analyzer over TLS/443. */
export const FabricSettings = Schema.Struct({ server: Server })

export interface Endpoint {
  readonly id: string
  readonly serial: string
  readonly hostname: string
}

/** POSTs JSON over HTTPS, trusting the lab CA (the analyzer is named by address, not host name). */
const post = (
  context: DeviceContext,
  from: string,
  server: string,
  port: "tcp/8443" | "tcp/443",
  path: string,
  body: unknown
): Promise<{ status: number; text: string }> => {
  const target = resolveServer(context.plan, server, port)
  const data = JSON.stringify(body)
  const localAddress = context.plan.sourceAddressOf(from)
  return new Promise((resolve, reject) => {
    const request = https.request({
      host: target.address,
      port: target.actualPort,
      method: "POST",
      path,
      headers: { "content-type": "application/json", "content-length": Buffer.byteLength(data) },
      ...(context.pki === null ? { rejectUnauthorized: false } : { ca: context.pki.caPem }),
      checkServerIdentity: () => undefined,
      agent: false,
      timeout: 5000,
      ...(localAddress === undefined ? {} : { localAddress })
    }, (response) => {
      let text = ""
      response.setEncoding("utf8")
      response.on("data", (chunk: string) => (text += chunk))
      response.on("end", () => resolve({ status: response.statusCode ?? 0, text }))
    })
    request.on("timeout", () => request.destroy(new Error("no answer within 5 s")))
    request.on("error", reject)
    request.end(data)
  })
}

export class ChromebookUploader {
  readonly #endpoint: Endpoint
  readonly #context: DeviceContext
  readonly settings: ChromebookSettings
  readonly #random: () => number
  #queue: Array<Readonly<Record<string, string | number>>> = []
  #seq = 0
  #dropped = 0
  #timer: unknown = null
  #running = false
  #paused = false
  #uploading = false
  #origin = 0
  #paced = 0

  constructor(endpoint: Endpoint, settings: ChromebookSettings, context: DeviceContext) {
    this.#endpoint = endpoint
    this.settings = settings
    this.#context = context
    this.#random = seededRandom(`${endpoint.serial}-chromebook`)
  }

  get sent(): number {
    return this.#seq
  }

  start(): void {
    if (this.#running) return
    this.#running = true
    this.#origin = this.#context.clock.now()
    this.#paced = 0
    this.#timer = this.#context.clock.setTimeout(() => this.#tick(), UPLOAD_INTERVAL_MS)
  }

  stop(): void {
    this.#running = false
    if (this.#timer !== null) this.#context.clock.clearTimeout(this.#timer)
    this.#timer = null
  }

  pause(): void {
    this.#paused = true
  }

  resume(): void {
    this.#paused = false
  }

  burst(count: number): void {
    this.#generate(count)
  }

  #generate(count: number): void {
    const now = new Date()
    for (let i = 0; i < count; i++) {
      const seq = ++this.#seq
      const log = makeForticlientLog({ hostname: this.#endpoint.hostname, serial: this.#endpoint.serial, user: "student", now, random: this.#random })
      this.#queue.push(Object.fromEntries([...log.fields, ["fazlab_seq", seq]]))
    }
    const over = this.#queue.length - CHROMEBOOK_QUEUE_LIMIT
    if (over > 0) {
      this.#queue.splice(0, over)
      this.#dropped += over
      this.#context.bus.publish({ type: "logs-dropped", device: this.#endpoint.id, count: over, total: this.#dropped, reason: `Chromebook queue full (${CHROMEBOOK_QUEUE_LIMIT} logs): oldest dropped` })
    }
  }

  #tick(): void {
    this.#timer = null
    if (!this.#running) return
    const due = Math.floor(((this.#context.clock.now() - this.#origin) * this.settings.rate) / 1000) - this.#paced
    this.#paced += due
    if (!this.#paused) {
      const room = this.settings.count === null ? due : Math.min(due, Math.max(0, this.settings.count - this.#seq))
      this.#generate(room)
    }
    void this.#upload()
    this.#timer = this.#context.clock.setTimeout(() => this.#tick(), UPLOAD_INTERVAL_MS)
  }

  async #upload(): Promise<void> {
    if (this.#uploading || this.#queue.length === 0) return
    this.#uploading = true
    const batch = this.#queue.slice(0, 1000)
    try {
      const reply = await post(this.#context, this.#endpoint.id, this.settings.server, "tcp/8443", "/api/v1/logs", {
        serial: this.#endpoint.serial,
        hostname: this.#endpoint.hostname,
        logs: batch
      })
      if (reply.status === 200) {
        this.#queue.splice(0, batch.length)
        this.#context.bus.publish({ type: "logs-sent", device: this.#endpoint.id, to: this.settings.server, count: batch.length, total: this.#seq - this.#queue.length })
      }
    } catch {
      // The analyzer is away: the batch stays queued for the next tick.
    } finally {
      this.#uploading = false
    }
  }
}

/** Registers the endpoint as a Fabric member on TLS/443; retries until the analyzer answers. Returns a cancel function. */
export const joinFabric = (endpoint: Endpoint, server: string, context: DeviceContext): (() => void) => {
  let timer: unknown = null
  let cancelled = false
  const attempt = () => {
    timer = null
    post(context, endpoint.id, server, "tcp/443", "/api/v1/fabric/join", { serial: endpoint.serial, hostname: endpoint.hostname }).then(
      (reply) => {
        if (reply.status !== 200 && !cancelled) timer = context.clock.setTimeout(attempt, FABRIC_RETRY_MS)
      },
      () => {
        if (!cancelled) timer = context.clock.setTimeout(attempt, FABRIC_RETRY_MS)
      }
    )
  }
  attempt()
  return () => {
    cancelled = true
    if (timer !== null) context.clock.clearTimeout(timer)
  }
}
