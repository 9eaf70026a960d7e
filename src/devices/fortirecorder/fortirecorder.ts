/**
 * The emulated FortiRecorder: the peer of the vendor table's "FortiRecorder → FortiAnalyzer,
 * Logging, management". It binds nothing. At start and every `notify-interval` of lab time it
 * runs its flows to its analyzer, one after another, each one `recorder-flow` event:
 *
 * 1. `notify-tcp`: one notice per camera (`online` in the first round, `motion` after) joins its
 *    queue; HELLO, every queued notice, BYE on TCP/3010. A notice leaves the queue only when the
 *    analyzer acknowledged it, so one not acknowledged is sent again next round (the analyzer
 *    keeps it once).
 * 2. `notify-http`: the first camera's status as `POST /notify` on TCP/3011 (its own sequence).
 * 3. `rtsp`: OPTIONS and DESCRIBE of its first camera's stream on UDP/554 or TCP/554.
 * 4. `upload`: the round's motion clip of its first camera over FTP on TCP/21
 *    (`/<serial>/<camera>-<round>.mp4`, a few KiB that start as an MP4 does), logged in as
 *    `admin-user-name`.
 * 5. `api`: TCP/80 must redirect to HTTPS; `get sys/status` on the JSON-RPC API (TLS/443).
 *
 * The wire of 3010 and 3011 is fazlab's own (docs/protocols/fortirecorder.md).
 */
import * as Effect from "effect/Effect"
import { errorMessage } from "../../machines/shared/reasons.ts"
import { resolveServer } from "../../net/server-address.ts"
import type { CameraEvent, Notice } from "../../protocols/fortirecorder/notify.ts"
import type { Device, DeviceContext, DeviceStatus } from "../device.ts"
import { uploadFile } from "../fortianalyzer/file-upload.ts"
import { callApi, describeStream, postNotice, sendNoticesTcp } from "./flows.ts"
import type { FortiRecorderSpec } from "./settings.ts"

type Flow = "notify-tcp" | "notify-http" | "rtsp" | "upload" | "api"

/** A stand-in for a motion clip: an MP4 `ftyp` box, then filler. */
const clip = (camera: string, round: number): Buffer =>
  Buffer.concat([Buffer.from("0000001c6674797069736f6d0000020069736f6d69736f32", "hex"), Buffer.alloc(4096, `${camera} ${round} `)])

export class FortiRecorder implements Device {
  readonly kind = "fortirecorder"
  readonly id: string
  readonly serial: string
  readonly hostname: string
  readonly settings: FortiRecorderSpec
  readonly #context: DeviceContext
  /** Notices for TCP/3010 not yet acknowledged, oldest first. */
  readonly queue: Array<Notice> = []
  /** Notices the analyzer acknowledged on TCP/3010. */
  acknowledged = 0
  #nextSeq = 1
  #nextHttpSeq = 1
  #rounds = 0
  #timer: unknown = null
  #started = false

  constructor(id: string, settings: FortiRecorderSpec, context: DeviceContext) {
    this.id = id
    this.serial = settings.serial
    this.hostname = settings.hostname
    this.settings = settings
    this.#context = context
  }

  status(): DeviceStatus {
    return this.#started ? "running" : "stopped"
  }

  start(): Effect.Effect<void> {
    return Effect.sync(() => {
      if (this.#started) return
      this.#started = true
      this.#context.bus.publish({ type: "device-started", device: this.id, kind: this.kind })
      this.#schedule(0)
    })
  }

  stop(): Effect.Effect<void> {
    return Effect.sync(() => {
      if (!this.#started) return
      this.#started = false
      if (this.#timer !== null) this.#context.clock.clearTimeout(this.#timer)
      this.#timer = null
      this.#context.bus.publish({ type: "device-stopped", device: this.id, kind: this.kind })
    })
  }

  kill(): Effect.Effect<void> {
    return this.stop()
  }

  dispose(): Effect.Effect<void> {
    return this.stop()
  }

  #schedule(delayMs: number): void {
    this.#timer = this.#context.clock.setTimeout(() => {
      this.#timer = null
      void this.#round().then(() => {
        if (this.#started) this.#schedule(this.settings.notifyInterval)
      })
    }, delayMs)
  }

  /** One round of the five flows. */
  async #round(): Promise<void> {
    const { settings } = this
    const event: CameraEvent = this.#rounds++ === 0 ? "online" : "motion"
    for (const camera of settings.cameras) this.queue.push({ serial: this.serial, seq: this.#nextSeq++, camera, event })
    // The settings admit no empty camera list.
    const camera = settings.cameras[0] ?? "cam-1"
    await this.#run("notify-tcp", async () => {
      const sent = this.queue.length
      const acked = new Set(await sendNoticesTcp(this.#at("tcp/3010"), this.#from, { serial: this.serial, name: this.hostname, version: settings.version }, [...this.queue], settings.timeout))
      const left = this.queue.filter((notice) => !acked.has(notice.seq))
      this.acknowledged += this.queue.length - left.length
      this.queue.splice(0, this.queue.length, ...left)
      return `${acked.size} of ${sent} notices acknowledged on TCP/3010`
    })
    await this.#run("notify-http", async () => {
      await postNotice(this.#at("tcp/3011"), this.#from, { serial: this.serial, seq: this.#nextHttpSeq, camera, event: "online" }, settings.timeout)
      return `notice ${this.#nextHttpSeq++} (${camera} online) taken on TCP/3011`
    })
    await this.#run("rtsp", async () => {
      const at = this.#at(`${settings.rtspTransport}/554`)
      const uri = `rtsp://${at.host}:${at.port}/fortirecorder/${this.serial}/${camera}`
      const described = await describeStream(at, this.#from, settings.rtspTransport, uri, settings.timeout)
      return `DESCRIBE ${uri} over ${settings.rtspTransport.toUpperCase()}/554 answered ${described.status} with ${described.headers.get("content-type") ?? "no content type"}`
    })
    const round = this.#rounds
    await this.#run("upload", async () => {
      const at = this.#at("tcp/21")
      const name = `${camera}-${round}.mp4`
      const content = clip(camera, round)
      const where = await uploadFile(
        { protocol: "ftp", host: at.host, port: at.port, user: settings.adminUserName, password: settings.password, directory: `/${this.serial}`, name, content, timeoutMs: settings.timeout },
        new AbortController().signal
      )
      return `${where} (${content.length} bytes) uploaded over FTP on TCP/21`
    })
    await this.#run("api", async () => {
      const pki = this.#context.pki
      if (pki === null) throw new Error("the lab has no PKI: the JSON-RPC API needs TLS")
      const api = this.#at("tcp/443")
      const version = await callApi(this.#at("tcp/80"), { ...api, user: settings.adminUserName, password: settings.password, caPem: pki.caPem }, settings.timeout)
      return `TCP/80 redirects to HTTPS; get sys/status on 443: ${version}`
    })
  }

  get #from(): string | undefined {
    return this.#context.plan.sourceAddressOf(this.id)
  }

  #at(port: "tcp/21" | "tcp/3010" | "tcp/3011" | "tcp/554" | "udp/554" | "tcp/80" | "tcp/443"): { readonly host: string; readonly port: number } {
    const at = resolveServer(this.#context.plan, this.settings.fortianalyzer, port)
    return { host: at.address, port: at.actualPort }
  }

  /** Runs one flow and says how it went, unless the recorder stopped meanwhile. */
  async #run(flow: Flow, exchange: () => Promise<string>): Promise<void> {
    const outcome = await exchange().then((reason) => ({ status: "ok" as const, reason }), (error: unknown) => ({ status: "failed" as const, reason: errorMessage(error) }))
    if (!this.#started) return
    this.#context.bus.publish({ type: "recorder-flow", device: this.id, analyzer: this.settings.fortianalyzer, flow, ...outcome })
  }
}
