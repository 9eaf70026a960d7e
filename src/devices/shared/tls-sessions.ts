/**
 * The plumbing of a device's TLS intakes: what every one is built from (the analyzer's OFTP on
 * TCP/514 and HTTPS, the FortiManager's FGFM on TCP/541), and for those that run one session
 * machine per connection (OFTP, FGFM): the connection's link (plain until TLS is up), the TLS
 * upgrade raced against the machine's own handshake-timeout, socket events turned into machine
 * events while the machine runs, and the table of sessions with its one-session-per-serial rule
 * and its count of ends by code.
 */
import type * as net from "node:net"
import type * as tls from "node:tls"
import type { EventBus } from "../../events/bus.ts"
import { type TlsHandshakeError, upgradeToTls } from "../../net/tls.ts"

/** What every TLS intake of a device is built from; each intake adds its own settings. */
export interface TlsIntakeOptions {
  /** The device the intake belongs to, as its events name it. */
  readonly device: string
  /** The device's serial: its certificate's CN, and the serial it answers peers with. */
  readonly serial: string
  readonly bus: EventBus
  /** Server options with the device's certificate (`serverTlsOptions` of `net/tls.ts`). */
  readonly tls: tls.TlsOptions
}

/** What the plumbing needs of a session actor: whether it runs, and the events it sends it. */
export interface SessionRef<Event> {
  getSnapshot(): { readonly status: string }
  send(event: Event): void
}

/** Sends to a session that is still running; an ended session ignores late socket events. */
export const deliver = <Event>(actor: SessionRef<Event>, event: Event): void => {
  if (actor.getSnapshot().status === "active") actor.send(event)
}

/** Calls `listener` once per state the session enters (xstate also reports changes of context alone). */
export const onEachState = <Snapshot extends { readonly value: unknown }>(
  actor: { subscribe(listener: (snapshot: Snapshot) => void): unknown },
  listener: (state: string, snapshot: Snapshot) => void
): void => {
  let last = ""
  actor.subscribe((snapshot) => {
    const state = String(snapshot.value)
    if (state === last) return
    last = state
    listener(state, snapshot)
  })
}

/** The host part of a `peerOf` address: "127.0.0.1:40001" → "127.0.0.1". */
export const hostOf = (peer: string): string => peer.slice(0, peer.lastIndexOf(":"))

/** A connection's sockets: the accepted TCP one, and the TLS one once the handshake is done. */
export class SessionLink {
  readonly raw: net.Socket
  secure: tls.TLSSocket | null = null

  constructor(raw: net.Socket) {
    this.raw = raw
  }

  /** Writes on TLS; before the handshake, or once the socket is gone, nobody could read it. */
  write(bytes: Uint8Array): void {
    if (this.secure !== null && !this.secure.destroyed) this.secure.write(bytes)
  }
}

/** Ends a socket so that what was written last (an error, a close message) reaches the peer, then destroys it a second later. */
export const endGracefully = (socket: net.Socket): void => {
  if (socket.destroyed) return
  socket.end()
  setTimeout(() => socket.destroy(), 1000).unref()
}

/**
 * Upgrades the link of a session machine that already runs. The machine's own
 * `handshake-timeout` ends a slow handshake; TLS's timer, a second later, is the backstop. Once
 * TLS is up, `onSecure` wires the TLS socket and the machine gets TLS_UP; a handshake that ends
 * after the session did is dropped. `onFailed` hears why a handshake failed.
 */
export const upgradeForSession = (
  actor: SessionRef<{ readonly type: "TLS_UP" }>,
  link: SessionLink,
  options: { readonly tls: tls.TlsOptions; readonly handshakeTimeoutMs: number; readonly firstChunk?: Buffer },
  onSecure: (secure: tls.TLSSocket) => void,
  onFailed: (error: TlsHandshakeError) => void
): void => {
  upgradeToTls(link.raw, { tls: options.tls, handshakeTimeoutMs: options.handshakeTimeoutMs + 1000 }, options.firstChunk).then(
    (secure) => {
      if (actor.getSnapshot().status !== "active") {
        secure.destroy()
        return
      }
      link.secure = secure
      onSecure(secure)
      actor.send({ type: "TLS_UP" })
    },
    onFailed
  )
}

/** Hands a session's TLS bytes to `onData` while its machine runs; the socket closing is LINK_LOST. */
export const readLink = (
  actor: SessionRef<{ readonly type: "LINK_LOST"; readonly reason: string }>,
  socket: tls.TLSSocket,
  onData: (chunk: Buffer) => void
): void => {
  socket.on("data", (chunk: Buffer) => {
    if (actor.getSnapshot().status === "active") onData(chunk)
  })
  socket.on("error", () => undefined)
  socket.on("close", () => deliver(actor, { type: "LINK_LOST", reason: "the connection closed" }))
}

/** One connection's session: its machine, where it came from, and the serial it registered. */
export interface Session<Actor> {
  readonly actor: Actor
  readonly peer: string
  serial: string | null
}

/** The sessions of one intake: at most one per serial, and how many ended, by code. */
export class SessionTable<Actor, End extends string> {
  readonly #sessions = new Set<Session<Actor>>()
  readonly #bySerial = new Map<string, Session<Actor>>()
  /** Sessions that ended, by code ("duplicate-session", "device-closed" ...). */
  readonly ended = new Map<End, number>()

  open(actor: Actor, peer: string): Session<Actor> {
    const session: Session<Actor> = { actor, peer, serial: null }
    this.#sessions.add(session)
    return session
  }

  /** Counts the end and forgets the session; returns the serial it released, if it held one. */
  close(session: Session<Actor>, code: End): string | null {
    this.ended.set(code, (this.ended.get(code) ?? 0) + 1)
    this.#sessions.delete(session)
    const serial = session.serial
    if (serial === null || this.#bySerial.get(serial) !== session) return null
    this.#bySerial.delete(serial)
    return serial
  }

  /** The open session whose machine is `actor`. */
  find(actor: Actor | null): Session<Actor> | undefined {
    return [...this.#sessions].find((s) => s.actor === actor)
  }

  /**
   * One session per serial: the session takes the serial unless another one holds it. Returns
   * the reason to refuse the second session (the first keeps going), or null.
   */
  claim(session: Session<Actor> | undefined, serial: string, peer: string): string | null {
    const existing = this.#bySerial.get(serial)
    if (existing !== undefined && existing !== session) {
      return `${serial} already has a session from ${existing.peer}; refusing the second one from ${peer}`
    }
    if (session !== undefined) {
      session.serial = serial
      this.#bySerial.set(serial, session)
    }
    return null
  }

  /** The session that holds `serial`. */
  holder(serial: string): Session<Actor> | undefined {
    return this.#bySerial.get(serial)
  }

  /** The serials with a session up. */
  serials(): ReadonlyArray<string> {
    return [...this.#bySerial.keys()]
  }

  /** The open sessions. */
  all(): ReadonlyArray<Session<Actor>> {
    return [...this.#sessions]
  }

  /** Forgets every session (the caller stops their machines). */
  clear(): void {
    this.#sessions.clear()
    this.#bySerial.clear()
  }
}
