/**
 * The analyzer's OFTP intake (FortiAnalyzer's oftpd): TLS connections handed over by TCP/514,
 * one session machine each (`machines/oftp-session.ts`), the device registry, and reliable
 * batches: a LOGS batch is stored (duplicates skipped by sequence number) and only then
 * acknowledged. The LOGS batches that arrive in one turn of the event loop, from every session,
 * are stored in one transaction (`appendDeviceBatches`, flushed from `setImmediate` or at
 * `MAX_PENDING_RECORDS`): a thousand devices sending a frame each 100 ms would otherwise cost a
 * commit per frame.
 *
 * Registration: an unknown serial lands in the registry as unauthorized and its logs are held
 * apart; a matching pre-shared key or `auto-authorize` authorizes it at once. One session per
 * serial: a second one is refused ("duplicate-session") and the first keeps going.
 *
 * In an HA group the acting primary acknowledges a batch only once every connected secondary has
 * stored it too (`replicate`, docs/protocols/ha.md): an acknowledged record survives a failover.
 *
 * Bad input ends one session only: a failed TLS handshake ("tls-error", "handshake-timeout"), a
 * decoder error or a broken session rule closes that connection, is counted in `ended` by code
 * and published as an `oftp-session` "closed" event with the reason (sent to the device in an
 * ERROR frame first, once TLS is up). Socket events that arrive after a session ended are dropped:
 * nothing is sent to a stopped machine.
 */
import type * as net from "node:net"
import type * as tls from "node:tls"
import { type Actor, createActor } from "xstate"
import { type OftpSessionEnd, type OftpSessionEvent, oftpSessionMachine } from "../../machines/oftp-session.ts"
import type { LabClock } from "../../machines/clock.ts"
import { KeyPicker } from "../../protocols/fortios/kv.ts"
import { encodeFrame, type Hello, type OftpFrame, OftpDecoder } from "../../protocols/oftp/frames.ts"
import { TlsHandshakeError } from "../../net/tls.ts"
import { peerOf } from "../../net/tcp.ts"
import type { LogRecordInput } from "../../store/log-record.ts"
import type { LogStore } from "../../store/log-store.ts"
import { StoreError } from "../../store/store-error.ts"
import { deliver, endGracefully, hostOf, onEachState, readLink, type Session as TlsSession, SessionLink, SessionTable, type TlsIntakeOptions, upgradeForSession } from "../shared/tls-sessions.ts"
import type { AnalyzerOftpSettings } from "./settings.ts"
import type { StoreWriter } from "./store-writer.ts"

type SessionActor = Actor<typeof oftpSessionMachine>

type Session = TlsSession<SessionActor>

/**
 * HA log sync of one stored OFTP batch (`records` may be empty): resolves once every secondary
 * connected now has stored everything synced so far; null when there is no secondary to wait for.
 */
export type OftpReplicate = (serial: string, records: ReadonlyArray<LogRecordInput & { readonly seq: number }>, held: boolean) => Promise<void> | null

/** Why a handshake failed, as the session machine takes it. */
const tlsFailure = (error: unknown): Extract<OftpSessionEvent, { type: "TLS_FAILED" }> =>
  error instanceof TlsHandshakeError
    ? { type: "TLS_FAILED", code: error.code, reason: error.message }
    : { type: "TLS_FAILED", code: "tls-error", reason: `TLS handshake failed: ${String(error)}` }

type OftpRow = LogRecordInput & { readonly seq: number }

/** A LOGS batch waiting for the next store transaction. */
interface PendingBatch {
  readonly session: Session
  readonly socket: tls.TLSSocket
  readonly rows: ReadonlyArray<OftpRow>
}

/**
 * Records queued before a transaction is started at once rather than at the end of the
 * event-loop turn. A batch this large costs one commit per 1,000 records already: storing and
 * acknowledging it at once keeps one busy session's pipeline full, while small frames from many
 * sessions still share a commit.
 */
const MAX_PENDING_RECORDS = 1_000

export interface OftpServerOptions extends TlsIntakeOptions {
  readonly store: LogStore
  readonly writer: StoreWriter
  readonly clock: LabClock
  readonly settings: AnalyzerOftpSettings
  /** HA log sync of a stored batch; the ACK waits for its promise (null: nobody to wait for). */
  readonly replicate?: OftpReplicate
  /** A device was registered or authorized here (HA configuration sync). */
  readonly onRegistryChanged?: () => void
  /** Sees the records of an authorized device once they are stored (not their duplicates): log forwarding. */
  readonly onStored?: (records: ReadonlyArray<LogRecordInput>) => void
}

export class OftpServer {
  readonly #options: OftpServerOptions
  readonly #sessions = new SessionTable<SessionActor, OftpSessionEnd>()
  #pending: PendingBatch[] = []
  #pendingRecords = 0
  #flushScheduled = false
  #disposed = false

  constructor(options: OftpServerOptions) {
    this.#options = options
  }

  /** Sessions that ended, by code ("hello-timeout", "duplicate-session", "device-closed" ...). */
  get ended(): ReadonlyMap<OftpSessionEnd, number> {
    return this.#sessions.ended
  }

  /** Devices with a session up right now. */
  connectedSerials(): ReadonlyArray<string> {
    return this.#sessions.serials()
  }

  /** Takes a TCP/514 connection whose first chunk starts a TLS handshake. */
  accept(socket: net.Socket, firstChunk: Buffer): void {
    const peer = peerOf(socket)
    const link = new SessionLink(socket)
    const session = this.#sessions.open(this.#createSession(link, peer), peer)
    const { actor } = session
    onEachState(actor, (state, { context }) => {
      if (state === "closed") this.#sessions.close(session, context.code ?? "link-lost")
      this.#options.bus.publish({
        type: "oftp-session",
        device: this.#options.device,
        peer,
        serial: context.hello?.serial ?? null,
        state: state === "awaitingHello" ? "awaiting-hello" : (state as "handshake" | "registering" | "online" | "closed"),
        code: context.code,
        reason: context.reason
      })
    })
    actor.start()
    // A reset during the handshake surfaces as the handshake's failure; never as an unhandled error.
    socket.on("error", () => undefined)
    upgradeForSession(
      actor,
      link,
      { tls: this.#options.tls, handshakeTimeoutMs: this.#options.settings.handshakeTimeout, firstChunk },
      (secure) => this.#attach(session, secure),
      (error: unknown) => deliver(actor, tlsFailure(error))
    )
  }

  #createSession(link: SessionLink, peer: string): SessionActor {
    const write = (frame: OftpFrame) => link.write(encodeFrame(frame))
    let self: SessionActor | null = null
    const machine = oftpSessionMachine.provide({
      actions: {
        register: ({ event }) => {
          if (event.type !== "HELLO") return
          const verdict = this.#register(event.hello, peer, self)
          queueMicrotask(() => {
            if (self !== null) deliver(self, verdict)
          })
        },
        sendHelloReply: ({ context }) => {
          const serial = context.hello?.serial ?? ""
          const registered = this.#options.store.devices.get(serial)
          write({
            type: "hello-reply",
            reply: {
              status: context.status ?? "pending",
              analyzerSerial: this.#options.serial,
              adom: registered?.adom ?? null,
              lastSeq: registered?.lastSeq ?? 0,
              keepaliveMs: context.hello?.keepaliveMs ?? 5000
            }
          })
        },
        sendKeepaliveReply: () => write({ type: "keepalive-reply" }),
        sendStatus: ({ event }) => {
          if (event.type === "AUTHORIZATION") write({ type: "status", status: event.status, adom: event.adom })
        },
        sendError: ({ context }) => {
          const code = context.code
          if (code !== null && code !== "device-closed" && code !== "link-lost" && code !== "analyzer-closed") {
            write({ type: "error", code, reason: context.reason })
          }
        },
        sendClose: ({ context }) => write({ type: "close", reason: context.reason }),
        closeLink: () => {
          // No TLS yet: nothing to flush, so the half-done handshake is cut at once. Otherwise
          // the ERROR or CLOSE frame reaches the device before the connection goes.
          if (link.secure === null) link.raw.destroy()
          else endGracefully(link.secure)
        }
      }
    })
    self = createActor(machine, {
      input: { handshakeTimeoutMs: this.#options.settings.handshakeTimeout, helloTimeoutMs: this.#options.settings.helloTimeout },
      clock: this.#options.clock
    })
    return self
  }

  /** Duplicate check, registry, PSK and auto-authorize: the answer to a HELLO. */
  #register(
    hello: Hello,
    peer: string,
    actor: SessionActor | null
  ): { type: "REGISTERED"; status: "authorized" | "pending"; adom: string | null } | { type: "REFUSED"; code: "duplicate-session"; reason: string } {
    const refusal = this.#sessions.claim(this.#sessions.find(actor), hello.serial, peer)
    if (refusal !== null) return { type: "REFUSED", code: "duplicate-session", reason: refusal }
    const ip = hostOf(peer)
    const known = this.#options.store.devices.get(hello.serial) !== undefined
    let device = this.#options.store.devices.seen(
      { serial: hello.serial, name: hello.hostname, platform: hello.platform, version: hello.version, ip, vdoms: hello.vdoms },
      Date.now()
    )
    this.#options.bus.publish({ type: "device-registered", device: this.#options.device, serial: device.serial, name: device.name, ip, status: device.state, firstSeen: !known })
    if (device.state === "unauthorized") {
      const psk = this.#options.settings.psk
      const reason = psk !== null && hello.psk === psk ? "its pre-shared key matches" : this.#options.settings.autoAuthorize ? "auto-authorize is on" : null
      if (reason !== null) {
        const result = this.#options.store.devices.authorize(hello.serial, hello.adom ?? null)
        device = result.device
        this.#options.bus.publish({ type: "device-authorized", device: this.#options.device, serial: device.serial, adom: device.adom ?? "root", released: result.released, reason })
      }
    }
    this.#options.onRegistryChanged?.()
    return { type: "REGISTERED", status: device.state === "authorized" ? "authorized" : "pending", adom: device.adom }
  }

  #attach(session: Session, socket: tls.TLSSocket): void {
    const decoder = new OftpDecoder({ maxFrameBytes: this.#options.settings.maxFrameBytes })
    const { actor } = session
    readLink(actor, socket, (chunk) => {
      const result = decoder.push(chunk)
      for (const frame of result.frames) this.#receive(session, socket, frame)
      if (result.error !== undefined) {
        deliver(actor, { type: "PROTOCOL_ERROR", code: result.error.code, reason: result.error.detail })
      }
    })
  }

  #receive(session: Session, socket: tls.TLSSocket, frame: OftpFrame): void {
    const { actor } = session
    switch (frame.type) {
      case "hello":
        deliver(actor, { type: "HELLO", hello: frame.hello })
        return
      case "close":
        deliver(actor, { type: "CLOSE_FRAME", reason: frame.reason })
        return
      case "logs":
        deliver(actor, { type: "FRAME", frameType: "logs" })
        this.#storeBatch(session, socket, frame.firstSeq, frame.records)
        return
      default:
        deliver(actor, { type: "FRAME", frameType: frame.type })
    }
  }

  /** Queues a batch for the next store transaction. */
  #storeBatch(session: Session, socket: tls.TLSSocket, firstSeq: number, records: ReadonlyArray<string>): void {
    const snapshot = session.actor.getSnapshot()
    const serial = session.serial
    if (serial === null || snapshot.value !== "online") return
    const now = Date.now()
    const hostname = snapshot.context.hello?.hostname ?? serial
    const rows: OftpRow[] = records.map((text, i) => {
      // Only the indexed fields are read here; the store rebuilds the rest from `raw` on read.
      const [devname, logid, type, subtype, level, eventtime] = INDEXED.pick(text) ?? []
      return {
        receivedAt: now,
        transport: "tcp",
        peer: session.peer,
        format: "fortios",
        facility: 23,
        severity: severityOf(level),
        device: devname ?? hostname,
        devid: serial,
        logid: logid ?? null,
        type: type ?? null,
        subtype: subtype ?? null,
        level: level ?? null,
        eventtime: eventtime ?? null,
        seq: firstSeq + i,
        raw: text,
        fields: "from-raw"
      }
    })
    this.#pending.push({ session, socket, rows })
    this.#pendingRecords += rows.length
    if (this.#pendingRecords >= MAX_PENDING_RECORDS) this.#flush()
    else if (!this.#flushScheduled) {
      this.#flushScheduled = true
      setImmediate(() => this.#flush())
    }
  }

  /**
   * Stores the queued batches in one transaction, then acknowledges each: the ACK means
   * "durable". A batch whose session is no longer online (closed, device deleted) is dropped
   * unacknowledged: the device sends it again. Whether a batch is held is decided now, with the
   * registry's latest word.
   */
  #flush(): void {
    this.#flushScheduled = false
    const queued = this.#pending
    this.#pending = []
    this.#pendingRecords = 0
    if (this.#disposed) return
    const batches: Array<PendingBatch & { readonly serial: string; readonly held: boolean }> = []
    for (const batch of queued) {
      const snapshot = batch.session.actor.getSnapshot()
      const serial = batch.session.serial
      if (serial === null || snapshot.status !== "active" || snapshot.value !== "online") continue
      batches.push({ ...batch, serial, held: snapshot.context.status !== "authorized" })
    }
    if (batches.length === 0) return
    let results: ReturnType<LogStore["appendDeviceBatches"]>
    try {
      results = this.#options.store.appendDeviceBatches(batches.map(({ serial, rows, held }) => ({ serial, records: rows, held })))
    } catch (error) {
      // The transaction failed as a whole (a commit on a full disk): nothing acknowledged, so
      // nothing lost; each session ends and its device sends the batches again on its next one.
      const reason = error instanceof Error ? error.message : String(error)
      for (const { session } of batches) deliver(session.actor, { type: "LINK_LOST", reason })
      return
    }
    batches.forEach(({ session, socket, rows, serial, held }, i) => {
      const result = results[i]
      if (result === undefined) return
      if (result instanceof StoreError) {
        // Not acknowledged, so not lost: the session ends and the device sends the batch again on its next one.
        deliver(session.actor, { type: "LINK_LOST", reason: result.message })
        return
      }
      const ack = () => {
        if (!socket.destroyed) socket.write(encodeFrame({ type: "ack", upTo: result.lastSeq }))
      }
      // Even a batch of duplicates waits: its ACK covers the records synced before it.
      const synced = this.#options.replicate?.(serial, result.stored > 0 ? rows : [], held) ?? null
      if (synced === null) ack()
      else void synced.then(ack)
      if (result.stored > 0 && !held) {
        this.#options.writer.announce(rows[0]?.device ?? serial, result.stored)
        // Duplicates (records at or below the device's last stored sequence) lead a batch.
        this.#options.onStored?.(rows.slice(rows.length - result.stored))
      }
    })
  }

  /** An administrator's decision reaches the device's live session, if it has one. */
  notify(serial: string, status: "authorized" | "pending" | "deleted", adom: string | null): void {
    const session = this.#sessions.holder(serial)
    if (session !== undefined) deliver(session.actor, { type: "AUTHORIZATION", status, adom })
  }

  /** Clean shutdown: what was received is stored and acknowledged, then CLOSE to every device. */
  shutdown(reason: string): void {
    this.#flush()
    for (const session of this.#sessions.all()) deliver(session.actor, { type: "SHUTDOWN", reason })
  }

  /** Stops every session machine (their links are closed by the listener going away); batches not stored yet are dropped, never acknowledged. */
  dispose(): void {
    this.#disposed = true
    this.#pending = []
    this.#pendingRecords = 0
    for (const session of this.#sessions.all()) session.actor.stop()
    this.#sessions.clear()
  }
}

const LEVELS: Readonly<Record<string, number>> = {
  emergency: 0, alert: 1, critical: 2, error: 3, warning: 4, notice: 5, information: 6, debug: 7
}

/** The fields a stored OFTP record is indexed by, in the order `pick` returns them. */
const INDEXED = new KeyPicker(["devname", "logid", "type", "subtype", "level", "eventtime"])

const severityOf = (level: string | undefined): number => (level === undefined ? 6 : LEVELS[level] ?? 6)
