/**
 * The FortiManager's FGFM intake (fgfmd): TLS connections accepted on TCP/541, one session
 * machine each (`machines/fgfm-session.ts`), and the list of managed FortiGates.
 *
 * Registration: a FortiGate that registers lands in the list as `pending` (FortiManager's
 * "Unauthorized Devices") unless `auto-authorize` is on; an administrator's decision reaches its
 * live session as `request=status`. One session per serial: a second one is refused
 * ("duplicate-session") and the first keeps going. The FortiManager answers with the
 * `keepalive_interval` and `sock_timeout` the FortiGate asked for, and closes a session that is
 * silent for that `sock_timeout`.
 */
import type * as net from "node:net"
import type * as tls from "node:tls"
import * as Schema from "effect/Schema"
import { type Actor, createActor } from "xstate"
import type { LabClock } from "../../machines/clock.ts"
import { type FgfmSessionEnd, fgfmSessionMachine } from "../../machines/fgfm-session.ts"
import { peerOf } from "../../net/tcp.ts"
import { encodeFgfm, FGFM_CHANNEL_WINDOW, type FgfmAuthorization, FgfmDecoder, type FgfmMessage, type FgfmRegister } from "../../protocols/fgfm/frames.ts"
import { connectionLimitFields, Duration, settingsStruct, wholeNumber, withDefault } from "../settings.ts"
import { deliver, endGracefully, hostOf, onEachState, readLink, type Session as TlsSession, SessionLink, SessionTable, type TlsIntakeOptions, upgradeForSession } from "../shared/tls-sessions.ts"

/** The FortiManager's FGFM side (fazlab names where FortiManager has none; see docs/protocols/fgfm.md). Times in milliseconds. */
export const FgfmServerSettings = settingsStruct({
  /** `config system global` `fgfm-ssl-protocol`: the lowest TLS version accepted. */
  fgfmSslProtocol: withDefault(Schema.Literals(["tlsv1.2", "tlsv1.3"]), "tlsv1.2"),
  /** Authorize every FortiGate that registers (a lab shortcut). */
  autoAuthorize: withDefault(Schema.Boolean, false),
  maxMessageBytes: withDefault(wholeNumber(512, 16_777_216), 65_536),
  ...connectionLimitFields,
  /** From TCP accept to the end of the TLS handshake, and from there to request=register. */
  handshakeTimeout: withDefault(Duration, "10s"),
  registerTimeout: withDefault(Duration, "10s")
})
export type FgfmServerSettings = typeof FgfmServerSettings.Type

/** A FortiGate in the FortiManager's device list. */
export interface ManagedDevice {
  readonly serial: string
  readonly hostname: string
  readonly platform: string
  readonly version: string
  /** Where its last session came from. */
  readonly ip: string
  readonly state: FgfmAuthorization
  /** Whether it has an FGFM session up right now. */
  readonly connected: boolean
  /** FortiManager's management id for the device: 1, 2, ... in order of first registration. */
  readonly mgmtid: number
}

type SessionActor = Actor<typeof fgfmSessionMachine>

type Session = TlsSession<SessionActor>

/** `device` is the FortiManager (its events name it as `manager`). */
export interface FgfmServerOptions extends TlsIntakeOptions {
  readonly clock: LabClock
  readonly settings: FgfmServerSettings
}

export class FgfmServer {
  readonly #options: FgfmServerOptions
  readonly #sessions = new SessionTable<SessionActor, FgfmSessionEnd>()
  readonly #devices = new Map<string, ManagedDevice>()

  constructor(options: FgfmServerOptions) {
    this.#options = options
  }

  /** Sessions that ended, by code ("register-timeout", "duplicate-session", "device-closed" ...). */
  get ended(): ReadonlyMap<FgfmSessionEnd, number> {
    return this.#sessions.ended
  }

  /** The device list, in order of first registration. */
  devices(): ReadonlyArray<ManagedDevice> {
    return [...this.#devices.values()]
  }

  /** Takes over the list a previous run of the FortiManager kept (every device offline). */
  restore(devices: ReadonlyArray<ManagedDevice>): void {
    for (const device of devices) this.#devices.set(device.serial, { ...device, connected: false })
  }

  device(serial: string): ManagedDevice | undefined {
    return this.#devices.get(serial)
  }

  /** Takes an accepted TCP/541 connection: TLS, then one FGFM session. */
  accept(socket: net.Socket): void {
    const peer = peerOf(socket)
    const link = new SessionLink(socket)
    const session = this.#open(link, peer, () => undefined)
    upgradeForSession(
      session.actor,
      link,
      { tls: this.#options.tls, handshakeTimeoutMs: this.#options.settings.handshakeTimeout },
      (secure) => this.#attach(session, secure),
      (error) => {
        const code = error.code === "handshake-timeout" ? "handshake-timeout" : "handshake-failed"
        deliver(session.actor, { type: "PROTOCOL_ERROR", code, reason: error.message })
      }
    )
  }

  /**
   * Takes a TLS link this FortiManager opened to a device that does not dial it (an analyzer it
   * adds by address): `request=discover` goes out, and the device registers as one that dialled
   * would. Resolves when the session has ended.
   */
  adopt(secure: tls.TLSSocket): Promise<void> {
    const peer = peerOf(secure)
    const link = new SessionLink(secure)
    link.secure = secure
    return new Promise((ended) => {
      const session = this.#open(link, peer, ended)
      this.#attach(session, secure)
      session.actor.send({ type: "TLS_UP" })
      link.write(encodeFgfm({ type: "discover", fmgSerialno: this.#options.serial }))
    })
  }

  /** One session machine for a link, started; its states are published, `onClosed` hears its end. */
  #open(link: SessionLink, peer: string, onClosed: () => void): Session {
    const session = this.#sessions.open(this.#createSession(link, peer), peer)
    const { actor } = session
    onEachState(actor, (state, { context }) => {
      if (state === "closed") {
        this.#ended(session, context.code ?? "link-lost")
        onClosed()
      }
      this.#options.bus.publish({
        type: "fgfm-session",
        manager: this.#options.device,
        peer,
        serial: context.register?.serialno ?? null,
        state: state === "awaitingRegister" ? "awaiting-register" : (state as "handshake" | "registering" | "registered" | "closed"),
        code: context.code,
        reason: context.reason
      })
    })
    actor.start()
    return session
  }

  #ended(session: Session, code: FgfmSessionEnd): void {
    const serial = this.#sessions.close(session, code)
    const device = serial === null ? undefined : this.#devices.get(serial)
    if (device !== undefined) this.#devices.set(device.serial, { ...device, connected: false })
  }

  #createSession(link: SessionLink, peer: string): SessionActor {
    const write = (message: FgfmMessage) => link.write(encodeFgfm(message))
    let self: SessionActor | null = null
    const machine = fgfmSessionMachine.provide({
      actions: {
        register: ({ event }) => {
          if (event.type !== "REGISTER") return
          const verdict = this.#register(event.register, peer, this.#sessions.find(self))
          queueMicrotask(() => self?.send(verdict))
        },
        sendRegisterReply: ({ context }) => {
          const serial = context.register?.serialno ?? ""
          write({
            type: "register-reply",
            status: context.status ?? "pending",
            fmgSerialno: this.#options.serial,
            mgmtid: this.#devices.get(serial)?.mgmtid ?? 0,
            keepaliveInterval: context.register?.keepaliveInterval ?? 300,
            sockTimeout: context.register?.sockTimeout ?? 900,
            chanWindowSz: FGFM_CHANNEL_WINDOW
          })
        },
        sendKeepaliveReply: () => write({ type: "keepalive-reply" }),
        sendStatus: ({ event }) => {
          if (event.type === "AUTHORIZATION") write({ type: "status", status: event.status })
        },
        sendError: ({ context }) => {
          const code = context.code
          if (code !== null && code !== "device-closed" && code !== "link-lost" && code !== "manager-closed") {
            write({ type: "error", code, reason: context.reason })
          }
        },
        sendClose: ({ context }) => write({ type: "close", reason: context.reason }),
        closeLink: () => endGracefully(link.secure ?? link.raw)
      }
    })
    self = createActor(machine, {
      input: {
        handshakeTimeoutMs: this.#options.settings.handshakeTimeout,
        registerTimeoutMs: this.#options.settings.registerTimeout
      },
      clock: this.#options.clock
    })
    return self
  }

  /** Duplicate check and the device list: the answer to a register request. */
  #register(
    register: FgfmRegister,
    peer: string,
    session: Session | undefined
  ): { type: "ACCEPTED"; status: FgfmAuthorization } | { type: "REFUSED"; code: "duplicate-session"; reason: string } {
    const refusal = this.#sessions.claim(session, register.serialno, peer)
    if (refusal !== null) return { type: "REFUSED", code: "duplicate-session", reason: refusal }
    const known = this.#devices.get(register.serialno)
    const ip = hostOf(peer)
    const state: FgfmAuthorization = known?.state ?? (this.#options.settings.autoAuthorize ? "authorized" : "pending")
    const device: ManagedDevice = {
      serial: register.serialno,
      hostname: register.hostname,
      platform: register.platform,
      version: register.version,
      ip,
      state,
      connected: true,
      mgmtid: known?.mgmtid ?? this.#devices.size + 1
    }
    this.#devices.set(device.serial, device)
    this.#options.bus.publish({
      type: "fgfm-device-registered",
      manager: this.#options.device,
      serial: device.serial,
      hostname: device.hostname,
      ip,
      status: state,
      firstSeen: known === undefined
    })
    return { type: "ACCEPTED", status: state }
  }

  #attach(session: Session, socket: tls.TLSSocket): void {
    const decoder = new FgfmDecoder({ maxMessageBytes: this.#options.settings.maxMessageBytes })
    const { actor } = session
    readLink(actor, socket, (chunk) => {
      const result = decoder.push(chunk)
      for (const message of result.messages) this.#receive(actor, message)
      if (result.error !== undefined) deliver(actor, { type: "PROTOCOL_ERROR", code: result.error.code, reason: result.error.detail })
    })
  }

  #receive(actor: SessionActor, message: FgfmMessage): void {
    switch (message.type) {
      case "register": {
        const { type: _, ...register } = message
        actor.send({ type: "REGISTER", register })
        return
      }
      case "close":
        actor.send({ type: "CLOSE_MESSAGE", reason: message.reason })
        return
      default:
        actor.send({ type: "MESSAGE", messageType: message.type })
    }
  }

  /** An administrator authorizes (or deletes) a device; its live session learns at once. */
  setAuthorization(serial: string, status: FgfmAuthorization | "deleted"): boolean {
    const device = this.#devices.get(serial)
    if (device === undefined) return false
    const session = this.#sessions.holder(serial)
    if (session !== undefined) deliver(session.actor, { type: "AUTHORIZATION", status })
    if (status === "deleted") this.#devices.delete(serial)
    else this.#devices.set(serial, { ...device, state: status })
    return true
  }

  /** Clean shutdown: request=close to every FortiGate. */
  shutdown(reason: string): void {
    for (const session of this.#sessions.all()) deliver(session.actor, { type: "SHUTDOWN", reason })
  }

  /** Stops every session machine (their links close with the listener). */
  dispose(): void {
    for (const session of this.#sessions.all()) session.actor.stop()
    for (const serial of this.#sessions.serials()) {
      const device = this.#devices.get(serial)
      if (device !== undefined) this.#devices.set(serial, { ...device, connected: false })
    }
    this.#sessions.clear()
  }
}
