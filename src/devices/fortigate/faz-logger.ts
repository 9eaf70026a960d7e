/**
 * A FortiGate's `log fortianalyzer` over OFTP: logs are generated at the configured rate into a
 * queue (memory, then disk, oldest dropped when full), uploaded in batches over TLS on the
 * analyzer's TCP/514, and dropped from the queue only when the analyzer acknowledges them.
 *
 * The session itself is `machines/oftp-client.ts` (connect, HELLO, keepalive, retry on the
 * FortiOS timers); this module supplies its I/O: TCP + TLS with the FortiOS knobs and the
 * analyzer-serial check (`certificate-verification`), frames in and out, and the upload window.
 * The link's socket is `devices/shared/client-link.ts`, as for FGFM.
 * On every new session it resumes after the analyzer's `lastSeq`, so nothing is stored twice.
 * Given a replayed file (`replay`), the queue takes the file's FortiOS records at their pace on
 * the lab clock instead of generated logs (the same queue, batches and session carry them); given
 * "handed", it generates nothing and carries what `log()` hands it (an analyzer forwarding the
 * logs it stores to another analyzer, `log-forward` with `fwd-server-type fortianalyzer`).
 */
import * as path from "node:path"
import * as Schema from "effect/Schema"
import { type Actor, createActor, fromPromise } from "xstate"
import { formatKeyValues } from "../../protocols/fortios/kv.ts"
import { makeFortiOsLog } from "../../protocols/fortios/logs.ts"
import type { ReplayFeed } from "../../protocols/syslog/replay.ts"
import { encodeFrame, type OftpFrame, OftpDecoder } from "../../protocols/oftp/frames.ts"
import { oftpClientMachine, oftpClientPhase, type OftpClientPhase } from "../../machines/oftp-client.ts"
import { verifyAnalyzerSerial } from "../../net/tls.ts"
import type { DeviceContext } from "../device.ts"
import { ClientLink } from "../shared/client-link.ts"
import { seededRandom } from "../shared/random.ts"
import { Duration, EncAlgorithm, LogKinds, NonEmpty, orNull, positiveCount, Rate, Server, settingsStruct, SslMinProtoVersion, wholeNumber, withDefault } from "../settings.ts"
import { LogQueue } from "./log-queue.ts"
import { pickKind } from "./log-mix.ts"

/**
 * A FortiOS device's `config log fortianalyzer setting` (FortiOS names), plus the log generator's
 * rate and queue. Times in milliseconds.
 */
export const FazLoggerSettings = settingsStruct({
  server: Server,
  /** The analyzer serials this FortiGate accepts (`serial`); null accepts any when verification is off. */
  serial: orNull(Schema.ArrayEnsure(NonEmpty)),
  certificateVerification: withDefault(Schema.Literals(["enable", "disable"]), "enable"),
  encAlgorithm: withDefault(EncAlgorithm, "high"),
  sslMinProtoVersion: withDefault(SslMinProtoVersion, "default"),
  /** enable: OFTP over TLS on TCP/514; disable: logs over UDP/514, unencrypted. */
  reliable: withDefault(Schema.Literals(["enable", "disable"]), "enable"),
  uploadOption: withDefault(Schema.Literals(["realtime", "1-minute", "5-minute", "store-and-upload"]), "realtime"),
  connTimeout: withDefault(Duration, "10s"),
  monitorKeepalivePeriod: withDefault(Duration, "5s"),
  monitorFailureRetryPeriod: withDefault(Duration, "5s"),
  presharedKey: orNull(NonEmpty),
  rate: withDefault(Rate, "10/s"),
  count: orNull(positiveCount),
  logs: LogKinds,
  /** Records the memory queue holds before spilling to disk or dropping the oldest. */
  queueSize: withDefault(wholeNumber(1, 100_000_000), 100_000),
  /** `config system global` `faz-disk-buffer-size`, in MB; 0 = memory only. */
  fazDiskBufferSize: withDefault(wholeNumber(0, 1_000_000), 0)
})
export type FazLoggerSettings = typeof FazLoggerSettings.Type

export interface FortiGateIdentity {
  readonly id: string
  readonly serial: string
  readonly hostname: string
  readonly vdom: string
  readonly platform: string
  readonly version: string
}

/** Records per LOGS frame, and batches that may await their ACK at once. */
export const BATCH_RECORDS = 1000
export const MAX_UNACKED_BATCHES = 8
/** Logs generated in one tick of the generator at most (about 50 ms of work). */
export const MAX_LOGS_PER_TICK = 5000
const REPORT_INTERVAL_MS = 1000
const UPLOAD_INTERVALS: Readonly<Record<FazLoggerSettings["uploadOption"], number | null>> = {
  realtime: 0,
  "1-minute": 60_000,
  "5-minute": 300_000,
  "store-and-upload": null
}

/** Where a logger's records come from: generated at `rate` (null), a replayed file, or `log()` ("handed"). */
export type LoggerSource = ReplayFeed | "handed" | null

export class FazLogger {
  readonly #device: FortiGateIdentity
  readonly settings: FazLoggerSettings
  readonly #context: DeviceContext
  readonly #queue: LogQueue
  readonly #actor: Actor<typeof oftpClientMachine>
  readonly #random: () => number
  readonly #link: ClientLink
  /** The file whose records are logged instead of generated ones (null: generate, unless handed). */
  readonly #replay: ReplayFeed | null
  /** Records come from `log()` only: nothing is generated. */
  readonly #handed: boolean
  #generating = false
  #paused = false
  #seq = 0
  #sentUpTo = 0
  #inFlight: number[] = []
  #acked = 0
  #lastReport = 0
  #reportedAcked = 0
  #generatorTimer: unknown = null
  #uploadTimer: unknown = null
  #uploadDue = false
  #burstPending = 0

  constructor(device: FortiGateIdentity, settings: FazLoggerSettings, context: DeviceContext, source: LoggerSource = null) {
    this.#device = device
    this.#handed = source === "handed"
    this.#replay = source === "handed" ? null : source
    this.settings = settings
    this.#context = context
    this.#random = seededRandom(device.serial)
    this.#queue = new LogQueue({
      memoryRecords: settings.queueSize,
      // An in-memory lab keeps its "disk" buffer in memory too: same limits, nothing written.
      disk: settings.fazDiskBufferSize > 0
        ? {
          file: context.dataDir === null ? ":memory:" : path.join(context.dataDir, device.id, "faz-disk-buffer.sqlite"),
          maxBytes: settings.fazDiskBufferSize * 1024 * 1024
        }
        : null
    })
    // A disk buffer kept from an earlier run holds records not yet acknowledged: number after them.
    this.#seq = this.#queue.lastSeq
    this.#acked = this.#queue.firstSeq === null ? this.#seq : this.#queue.firstSeq - 1
    const machine = oftpClientMachine.provide({
      actors: { connect: fromPromise<void>(({ signal }) => this.#connect(signal)) },
      actions: {
        sendHello: () => this.#write({
          type: "hello",
          hello: {
            serial: device.serial,
            hostname: device.hostname,
            platform: device.platform,
            version: device.version,
            vdoms: [device.vdom],
            ...(settings.presharedKey === null ? {} : { psk: settings.presharedKey }),
            uploadOption: settings.uploadOption,
            keepaliveMs: settings.monitorKeepalivePeriod
          }
        }),
        sendKeepalive: () => this.#write({ type: "keepalive" }),
        sendKeepaliveReply: () => this.#write({ type: "keepalive-reply" }),
        sendClose: ({ context }) => this.#write({ type: "close", reason: context.reason }),
        closeLink: () => this.#dropLink()
      }
    })
    this.#actor = createActor(machine, {
      input: {
        connTimeoutMs: settings.connTimeout,
        keepalivePeriodMs: settings.monitorKeepalivePeriod,
        failureRetryPeriodMs: settings.monitorFailureRetryPeriod
      },
      clock: context.clock
    })
    this.#link = new ClientLink({ context, device, machine: this.#actor })
    let last: OftpClientPhase = "disconnected"
    this.#actor.subscribe((snapshot) => {
      const phase = oftpClientPhase(snapshot)
      if (phase === last) return
      last = phase
      if (phase === "online") this.#online(snapshot.context.lastSeq)
      this.#context.bus.publish({ type: "oftp-link", device: device.id, state: phase, reason: snapshot.context.reason })
    })
    this.#actor.start()
  }

  /** Highest sequence number generated (every one of them was queued). */
  get sent(): number {
    return this.#seq
  }

  get queued(): number {
    return this.#queue.size
  }

  get dropped(): number {
    return this.#queue.dropped
  }

  phase(): OftpClientPhase {
    return oftpClientPhase(this.#actor.getSnapshot())
  }

  start(): void {
    if (this.#generating) return
    this.#generating = true
    this.#paused = false
    this.#scheduleGenerator()
    this.#scheduleUploads()
    this.#actor.send({ type: "START" })
  }

  /** Clean stop: CLOSE to the analyzer, generator off. The queue keeps what was not acknowledged. */
  stop(): void {
    this.#generating = false
    this.#clearTimers()
    this.#actor.send({ type: "STOP" })
  }

  /** Abrupt stop: the link is cut with no goodbye. */
  kill(): void {
    this.#generating = false
    this.#clearTimers()
    this.#link.cut()
    this.#actor.send({ type: "STOP" })
  }

  pause(): void {
    this.#paused = true
  }

  resume(): void {
    this.#paused = false
    // A paused replay waits for no timer: it goes on from its next record at the file's pace.
    if (this.#replay !== null && this.#generating && this.#generatorTimer === null) this.#scheduleReplay(this.#replay)
  }

  burst(count: number): void {
    if (this.#replay !== null) {
      this.#replay.burst(count)
      this.#replayDue(this.#replay)
      return
    }
    this.#burstPending += count
    this.#generate()
  }

  dispose(): void {
    this.kill()
    this.#actor.stop()
    this.#queue.close()
  }

  #clearTimers(): void {
    const { clock } = this.#context
    if (this.#generatorTimer !== null) clock.clearTimeout(this.#generatorTimer)
    if (this.#uploadTimer !== null) clock.clearTimeout(this.#uploadTimer)
    this.#generatorTimer = null
    this.#uploadTimer = null
  }

  /** Queues records handed over (source "handed"), numbered in order, sent as `upload-option` says. */
  log(texts: ReadonlyArray<string>): void {
    this.#enqueue(texts)
  }

  /** Generates logs on the lab clock at `rate`, whatever the link does: a FortiGate keeps logging. */
  #scheduleGenerator(): void {
    if (this.#handed) return
    if (this.#replay !== null) {
      this.#scheduleReplay(this.#replay)
      return
    }
    const { clock } = this.#context
    const { rate } = this.settings
    const tickMs = Math.min(100, Math.max(5, 1000 / rate))
    let origin = clock.now()
    let paced = 0
    const tick = () => {
      this.#generatorTimer = null
      if (!this.#generating) return
      // At most MAX_LOGS_PER_TICK at once, so a high rate never blocks the event loop for long.
      const due = Math.min(MAX_LOGS_PER_TICK, Math.floor(((clock.now() - origin) * rate) / 1000) - paced)
      paced += due
      if (!this.#paused) {
        const remaining = this.settings.count === null ? due : Math.min(due, Math.max(0, this.settings.count - this.#seq))
        this.#burstPending += remaining
        this.#generate()
      }
      if (Math.floor(((clock.now() - origin) * rate) / 1000) - paced > rate) {
        // More than a second behind (a stalled loop, or a rate beyond what one tick makes):
        // restart pacing instead of catching up in one flood.
        origin = clock.now()
        paced = 0
      }
      this.#generatorTimer = clock.setTimeout(tick, tickMs)
    }
    this.#generatorTimer = clock.setTimeout(tick, 0)
  }

  /** Queues the replayed file's records when each is due on the lab clock, until the last (paused: none). */
  #scheduleReplay(feed: ReplayFeed): void {
    const { clock } = this.#context
    feed.restart(clock.now())
    const tick = () => {
      this.#generatorTimer = null
      if (!this.#generating || this.#paused) return
      this.#replayDue(feed)
      const wait = feed.waitMs(clock.now())
      if (wait !== null) this.#generatorTimer = clock.setTimeout(tick, wait)
    }
    this.#generatorTimer = clock.setTimeout(tick, 0)
  }

  /** Queues the replayed records due now (at most `MAX_LOGS_PER_TICK`; the rest at the next tick). */
  #replayDue(feed: ReplayFeed): void {
    const now = this.#context.clock.now()
    const texts: string[] = []
    for (let log = feed.next(now); log !== null; log = texts.length < MAX_LOGS_PER_TICK ? feed.next(now) : null) {
      // The feed holds FortiOS records only (the FortiGate leaves the other lines out).
      if (log.record !== null) texts.push(log.record)
    }
    this.#enqueue(texts)
  }

  #generate(): void {
    const count = this.#burstPending
    this.#burstPending = 0
    if (count === 0) return
    const now = new Date()
    const texts: string[] = []
    for (let i = 0; i < count; i++) {
      // The number #enqueue gives it.
      const seq = this.#seq + i + 1
      const fields = makeFortiOsLog({
        device: { name: this.#device.hostname, serial: this.#device.serial, vdom: this.#device.vdom },
        kind: pickKind(this.#random, this.settings.logs),
        seq,
        epochNs: BigInt(now.getTime()) * 1_000_000n + BigInt(seq % 1_000_000),
        random: this.#random
      })
      texts.push(formatKeyValues(fields))
    }
    this.#enqueue(texts)
  }

  /** Numbers and queues logs (the oldest dropped when the queue is full), then uploads as `upload-option` says. */
  #enqueue(texts: ReadonlyArray<string>): void {
    if (texts.length === 0) return
    let dropped = 0
    for (const text of texts) {
      const seq = ++this.#seq
      dropped += this.#queue.push({ seq, text })
    }
    if (dropped > 0) {
      this.#context.bus.publish({
        type: "logs-dropped",
        device: this.#device.id,
        count: dropped,
        total: this.#queue.dropped,
        reason: `queue full (queue-size ${this.settings.queueSize}${this.settings.fazDiskBufferSize > 0 ? `, faz-disk-buffer-size ${this.settings.fazDiskBufferSize} MB` : ""}): oldest logs dropped`
      })
    }
    if (UPLOAD_INTERVALS[this.settings.uploadOption] === 0) this.#uploadDue = true
    this.#pump()
  }

  /** `upload-option`: realtime uploads as logs exist; 1-minute / 5-minute on a timer; store-and-upload never by itself. */
  #scheduleUploads(): void {
    const interval = UPLOAD_INTERVALS[this.settings.uploadOption]
    if (interval === null || interval === 0) return
    const { clock } = this.#context
    const tick = () => {
      this.#uploadDue = true
      this.#pump()
      this.#uploadTimer = clock.setTimeout(tick, interval)
    }
    this.#uploadTimer = clock.setTimeout(tick, interval)
  }

  #online(lastSeq: number): void {
    // The analyzer holds more of this serial than this FortiGate ever numbered: an earlier run of
    // the device (a lab restarted on its data folder, an analyzer that outlived it). Its queued
    // records are new to the analyzer: number them after lastSeq, or they would pass for stored.
    if (lastSeq > this.#seq) {
      const offset = lastSeq - this.#acked
      this.#queue.renumber(offset)
      this.#seq += offset
      this.#acked = lastSeq
      this.#reportedAcked = lastSeq
      this.#context.bus.publish({
        type: "logs-renumbered",
        device: this.#device.id,
        to: this.settings.server,
        from: lastSeq + 1,
        reason: `${this.settings.server} already holds records 1-${lastSeq} of ${this.#device.serial} from an earlier run; this run's records continue at ${lastSeq + 1}`
      })
    }
    // The analyzer has everything up to lastSeq: those records are done, resend the rest.
    this.#ack(lastSeq)
    this.#sentUpTo = Math.max(lastSeq, this.#acked)
    this.#inFlight = []
    this.#pump()
  }

  /** Sends batches while the session is online, the window has room and records wait. */
  #pump(): void {
    if (!this.#link.attached || !this.#uploadDue || this.phase() !== "online") return
    while (this.#inFlight.length < MAX_UNACKED_BATCHES) {
      const batch = this.#queue.after(this.#sentUpTo, BATCH_RECORDS)
      const first = batch[0]
      const last = batch.at(-1)
      if (first === undefined || last === undefined) {
        if (UPLOAD_INTERVALS[this.settings.uploadOption] !== 0) this.#uploadDue = false
        return
      }
      // Records are consecutive unless the oldest were dropped for room: a gap starts a new batch.
      const consecutive = batch.filter((log, i) => log.seq === first.seq + i)
      this.#write({ type: "logs", firstSeq: first.seq, records: consecutive.map((log) => log.text) })
      this.#sentUpTo = first.seq + consecutive.length - 1
      this.#inFlight.push(this.#sentUpTo)
    }
  }

  #ack(upTo: number): void {
    const removed = this.#queue.ack(upTo)
    if (upTo > this.#acked) this.#acked = upTo
    this.#inFlight = this.#inFlight.filter((seq) => seq > upTo)
    const now = this.#context.clock.now()
    if (removed > 0 && (now - this.#lastReport >= REPORT_INTERVAL_MS || this.#queue.size === 0)) {
      this.#context.bus.publish({
        type: "logs-acked",
        device: this.#device.id,
        to: this.settings.server,
        count: this.#acked - this.#reportedAcked,
        total: this.#acked,
        queued: this.#queue.size
      })
      this.#reportedAcked = this.#acked
      this.#lastReport = now
    }
  }

  #write(frame: OftpFrame): void {
    if (this.#link.write(encodeFrame(frame))) this.#actor.send({ type: "SENT" })
  }

  #dropLink(): void {
    this.#link.drop()
    this.#inFlight = []
  }

  /** TCP, then TLS with the FortiOS knobs, then the analyzer-serial check. */
  async #connect(signal: AbortSignal): Promise<void> {
    const socket = await this.#link.dial({
      protocol: "OFTP",
      server: this.settings.server,
      port: "tcp/514",
      timeoutMs: this.settings.connTimeout,
      tls: {
        encAlgorithm: this.settings.encAlgorithm,
        sslMinProtoVersion: this.settings.sslMinProtoVersion,
        verifyChain: this.settings.certificateVerification === "enable"
      }
    }, signal)
    const serials = this.settings.serial ?? []
    const verdict = verifyAnalyzerSerial(socket.getPeerCertificate(), serials, this.settings.certificateVerification)
    if (!verdict.ok) {
      socket.destroy()
      throw new Error(verdict.reason)
    }
    const decoder = new OftpDecoder({ maxFrameBytes: 1024 * 1024 })
    this.#link.attach(socket, {
      read: (chunk) => {
        const result = decoder.push(chunk)
        for (const frame of result.frames) this.#receive(frame)
        return result.error
      },
      peerClosed: "the analyzer closed the connection",
      badInput: (error) => `bad frame from the analyzer: ${error.code} (${error.detail})`
    })
  }

  #receive(frame: OftpFrame): void {
    // Frames still in flight when the device was disposed have nobody to go to.
    if (this.#actor.getSnapshot().status !== "active") return
    switch (frame.type) {
      case "hello-reply":
        this.#actor.send({ type: "HELLO_REPLY", ...frame.reply })
        break
      case "ack":
        this.#ack(frame.upTo)
        this.#pump()
        break
      case "status":
        this.#actor.send({ type: "STATUS", status: frame.status, adom: frame.adom })
        break
      case "error":
        this.#actor.send({ type: "ERROR_FRAME", code: frame.code, reason: frame.reason })
        break
      default:
        break
    }
    this.#actor.send({ type: "RECEIVED", frameType: frame.type })
  }
}
