/**
 * A device that sends syslog at a configured rate: the shared engine of the FortiGate's and the
 * FortiClient's `log syslogd`. The device kind supplies what one log says (`makeLog`); this
 * module runs the sender machine, opens the link, paces logs on the lab clock, numbers them
 * (`fazlab_seq`, so "none lost" can be checked) and reports `logs-sent` at most once a second.
 * Given a replayed file (`replay`), it sends the file's logs as they are, at their pace on the lab
 * clock, instead of making logs; it is done after the last one.
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { type Actor, createActor, fromCallback, fromPromise } from "xstate"
import type { SenderState } from "../../events/events.ts"
import { FACILITIES, encodeSyslog } from "../../protocols/syslog/encode.ts"
import type { ReplayFeed } from "../../protocols/syslog/replay.ts"
import { type SyslogSenderEvent, syslogSenderMachine } from "../../machines/syslog-sender.ts"
import type { DeviceContext, DeviceStatus, LogSource } from "../device.ts"
import { FacilityName, LogKinds, orNull, positiveCount, Rate, Server, settingsStruct, wholeNumber, withDefault } from "../settings.ts"
import { resolveServer } from "../../net/server-address.ts"
import { openSyslogLink, type SyslogLink } from "./syslog-link.ts"

const senderFields = {
  /** A device id of the lab, or `host` / `host:port` outside it. */
  server: Server,
  format: withDefault(Schema.Literals(["default", "rfc5424"]), "default"),
  facility: withDefault(FacilityName, "local7"),
  port: withDefault(wholeNumber(1, 65535), 514),
  /** Logs per second. */
  rate: withDefault(Rate, "10/s"),
  /** Stop after this many logs (null: until stopped). */
  count: orNull(positiveCount),
  logs: LogKinds
}

/** FortiOS `config log syslogd setting`: where and how a FortiOS device sends syslog. */
export const SyslogSenderSettings = settingsStruct({
  ...senderFields,
  mode: withDefault(Schema.Literals(["udp", "reliable", "legacy-reliable"]), "udp")
})
export type SyslogSenderSettings = typeof SyslogSenderSettings.Type

/** FortiClient's syslog: the same, over udp or reliable (TCP) only. */
export const ForticlientSyslogSettings = settingsStruct({
  ...senderFields,
  mode: withDefault(Schema.Literals(["udp", "reliable"]), "udp")
})

/** One log's text and severity, made by the device kind for sequence number `seq`. */
export type MakeLog = (seq: number, now: Date) => { readonly message: string; readonly severity: number }

/** FortiOS retries a lost syslog TCP link; fazlab waits this long between attempts. */
export const SYSLOG_RETRY_DELAY_MS = 5000
const CONNECT_TIMEOUT_MS = 5000
const SENT_REPORT_INTERVAL_MS = 1000
/** Replayed logs written in one turn at most, so a burst in a capture never blocks the event loop for long. */
const MAX_REPLAYED_PER_TICK = 1000

export class SyslogSender implements LogSource {
  readonly id: string
  readonly kind: string
  readonly hostname: string
  readonly serial: string
  /** Whether this sender reports device-started / device-stopped itself (false inside a FortiGate). */
  readonly #announce: boolean
  readonly settings: SyslogSenderSettings
  readonly #context: DeviceContext
  readonly #makeLog: MakeLog
  /** The file's logs to send instead of made ones (null: make them). */
  readonly #replay: ReplayFeed | null
  readonly #actor: Actor<typeof syslogSenderMachine>
  #link: SyslogLink | null = null
  #seq = 0
  #burstPending = 0
  #reported = 0
  #lastReportAt = 0

  constructor(options: {
    readonly id: string
    readonly kind: string
    readonly hostname: string
    readonly settings: SyslogSenderSettings
    readonly context: DeviceContext
    readonly makeLog: MakeLog
    readonly replay?: ReplayFeed | null
    readonly serial?: string
    readonly announce?: boolean
  }) {
    this.id = options.id
    this.serial = options.serial ?? ""
    this.#announce = options.announce ?? true
    this.kind = options.kind
    this.hostname = options.hostname
    this.settings = options.settings
    this.#context = options.context
    this.#makeLog = options.makeLog
    this.#replay = options.replay ?? null
    const machine = syslogSenderMachine.provide({
      actors: {
        connect: fromPromise<void>(({ signal }) => this.#connect(signal)),
        pump: fromCallback<SyslogSenderEvent>(({ sendBack }) => this.#pump(sendBack))
      }
    })
    this.#actor = createActor(machine, { input: { retryDelayMs: SYSLOG_RETRY_DELAY_MS }, clock: this.#context.clock })
    let last: string = "stopped"
    this.#actor.subscribe((snapshot) => {
      const state = snapshot.value as SenderState
      if (state === last) return
      last = state
      if (state !== "sending") this.#reportSent(true)
      if (state === "stopped" || state === "backoff" || state === "done") void this.#closeLink()
      this.#context.bus.publish({ type: "sender-state", device: this.id, state, reason: snapshot.context.reason })
    })
    this.#actor.start()
  }

  /** Highest sequence number sent so far (sequence numbers start at 1). */
  get sent(): number {
    return this.#seq
  }

  senderState(): SenderState {
    return this.#actor.getSnapshot().value as SenderState
  }

  status(): DeviceStatus {
    return this.senderState() === "stopped" ? "stopped" : "running"
  }

  start(): Effect.Effect<void> {
    return Effect.sync(() => {
      if (this.senderState() !== "stopped") return
      this.#actor.send({ type: "START" })
      if (this.#announce) this.#context.bus.publish({ type: "device-started", device: this.id, kind: this.kind })
    })
  }

  stop(): Effect.Effect<void> {
    return Effect.promise(async () => {
      if (this.senderState() === "stopped") return
      this.#actor.send({ type: "STOP" })
      await this.#closeLink()
      if (this.#announce) this.#context.bus.publish({ type: "device-stopped", device: this.id, kind: this.kind })
    })
  }

  /** Syslog has no goodbye: killing a sender is stopping it. */
  kill(): Effect.Effect<void> {
    return this.stop()
  }

  sentTo(analyzer: string): number {
    return this.settings.server === analyzer ? this.#seq : 0
  }

  pause(): void {
    this.#actor.send({ type: "PAUSE" })
  }

  resume(): void {
    this.#actor.send({ type: "RESUME" })
  }

  /** Sends `count` more logs as fast as the link takes them. */
  burst(count: number): void {
    this.#burstPending += count
    this.#actor.send({ type: "BURST" })
  }

  /** Where the server's documented port is right now (resolved on every connect: it may move). */
  #target(): { host: string; port: number } {
    const target = resolveServer(this.#context.plan, this.settings.server, `${this.settings.mode === "udp" ? "udp" : "tcp"}/${this.settings.port}`)
    return { host: target.address, port: target.actualPort }
  }

  async #connect(signal: AbortSignal): Promise<void> {
    const { host, port } = this.#target()
    const localAddress = this.#context.plan.sourceAddressOf(this.id)
    const link = await openSyslogLink({
      mode: this.settings.mode,
      host,
      port,
      ...(localAddress === undefined ? {} : { localAddress }),
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      signal
    })
    if (signal.aborted) {
      await link.close()
      return
    }
    this.#link = link
    link.onClose((reason) => {
      if (this.#link === link) {
        this.#link = null
        this.#actor.send({ type: "LINK_LOST", reason })
      }
    })
  }

  async #closeLink(): Promise<void> {
    const link = this.#link
    this.#link = null
    await link?.close()
  }

  /** Paces logs on the lab clock while the machine is `sending`; returns its cleanup. */
  #pump(sendBack: (event: SyslogSenderEvent) => void): () => void {
    if (this.#replay !== null) return this.#pumpReplay(this.#replay, sendBack)
    const { clock } = this.#context
    const { rate, count } = this.settings
    const tickMs = Math.min(100, Math.max(5, 1000 / rate))
    const maxPerTick = Math.max(1, Math.ceil((rate * tickMs) / 1000) * 4)
    const origin = clock.now()
    let pacedSinceOrigin = 0
    const facility = FACILITIES[this.settings.facility]
    return this.#drive(sendBack, (link) => {
      const remaining = count === null ? Number.POSITIVE_INFINITY : Math.max(0, count - this.#seq)
      let due = Math.floor(((clock.now() - origin) * rate) / 1000) - pacedSinceOrigin
      if (due > maxPerTick) {
        // We fell behind (a stalled loop): drop the pacing backlog rather than flood later.
        pacedSinceOrigin += due - maxPerTick
        due = maxPerTick
      }
      const paced = Math.min(due, remaining)
      pacedSinceOrigin += Math.max(0, due)
      let toSend = paced + this.#burstPending
      this.#burstPending = 0
      let writable = true
      const now = new Date()
      while (toSend > 0) {
        toSend--
        const seq = ++this.#seq
        const log = this.#makeLog(seq, now)
        writable = link.send(
          encodeSyslog({
            format: this.settings.format,
            facility,
            severity: log.severity,
            hostname: this.hostname,
            timestamp: now,
            message: `${log.message} fazlab_seq=${seq}`
          })
        )
        if (!writable) break
      }
      this.#burstPending += toSend
      this.#reportSent(false)
      if (count !== null && this.#seq >= count && this.#burstPending === 0) return { done: "configured count sent" }
      return { writable, nextMs: tickMs }
    })
  }

  /** Sends the replayed file's logs as they are when each is due; returns its cleanup. */
  #pumpReplay(feed: ReplayFeed, sendBack: (event: SyslogSenderEvent) => void): () => void {
    const { clock } = this.#context
    // Resumed (after a pause or a lost link): on from the next log at the file's pace.
    feed.restart(clock.now())
    return this.#drive(sendBack, (link) => {
      feed.burst(this.#burstPending)
      this.#burstPending = 0
      let writable = true
      for (let n = 0; writable && n < MAX_REPLAYED_PER_TICK; n++) {
        const log = feed.next(clock.now())
        if (log === null) break
        this.#seq++
        writable = link.send(log.message)
      }
      this.#reportSent(false)
      const wait = feed.waitMs(clock.now())
      return wait === null ? { done: `all ${feed.taken} logs of the replayed file sent` } : { writable, nextMs: wait }
    })
  }

  /**
   * Runs `turn` on the lab clock while the machine is `sending`, from now on: each turn writes what
   * is due on the link and says when to come back, or that every log is sent (DONE). A link that
   * takes no more calls the next turn when it drains; no link is LINK_LOST. Returns the cleanup.
   */
  #drive(
    sendBack: (event: SyslogSenderEvent) => void,
    turn: (link: SyslogLink) => { readonly writable: boolean; readonly nextMs: number } | { readonly done: string }
  ): () => void {
    const { clock } = this.#context
    let timer: unknown = null
    let active = true
    const tick = () => {
      timer = null
      if (!active) return
      const link = this.#link
      if (link === null) {
        sendBack({ type: "LINK_LOST", reason: "the link closed while the sender was paused" })
        return
      }
      const next = turn(link)
      if ("done" in next) {
        sendBack({ type: "DONE", reason: next.done })
        return
      }
      if (next.writable) timer = clock.setTimeout(tick, next.nextMs)
      else link.onDrain(() => {
        if (active) timer = clock.setTimeout(tick, 0)
      })
    }
    timer = clock.setTimeout(tick, 0)
    return () => {
      active = false
      if (timer !== null) clock.clearTimeout(timer)
    }
  }

  #reportSent(force: boolean): void {
    const now = this.#context.clock.now()
    if (this.#seq === this.#reported || (!force && now - this.#lastReportAt < SENT_REPORT_INTERVAL_MS)) return
    this.#context.bus.publish({
      type: "logs-sent",
      device: this.id,
      to: this.settings.server,
      count: this.#seq - this.#reported,
      total: this.#seq
    })
    this.#reported = this.#seq
    this.#lastReportAt = now
  }

  dispose(): Effect.Effect<void> {
    return this.stop().pipe(Effect.andThen(Effect.sync(() => this.#actor.stop())))
  }
}
