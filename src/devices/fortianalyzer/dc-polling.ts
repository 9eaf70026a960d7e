/**
 * The analyzer's TCP/445, the vendor table's "Management · DC polling · TCP/445". What a real
 * FortiAnalyzer serves there is not documented (docs/protocols/smb.md); fazlab answers SMB2 as far
 * as a real client can tell and no further: it negotiates (the highest of SMB 2.0.2 to 3.0.2 the
 * client offers, or 2.??? to an SMB1 negotiate that offers it) and refuses every session setup with
 * STATUS_ACCESS_DENIED, so `smbclient -L` reads "session setup failed: NT_STATUS_ACCESS_DENIED"
 * and lists no share. Any other request before a session gets STATUS_USER_SESSION_DELETED.
 *
 * Each negotiate and each refused session setup is an `smb-session` event; a stream that is not
 * SMB2 is counted by code (`refused`) and closed with a `connection-closed` event saying why.
 */
import * as crypto from "node:crypto"
import type * as net from "node:net"
import type { EventBus } from "../../events/bus.ts"
import type { PortKey } from "../../events/events.ts"
import { peerOf } from "../../net/tcp.ts"
import {
  chooseDialect,
  dialectName,
  encodeErrorResponse,
  encodeNegotiateResponse,
  NT_STATUS,
  SMB2_COMMANDS,
  type Smb2DecodeError,
  Smb2Decoder,
  type Smb2Request
} from "../../protocols/smb2/messages.ts"

export const DC_POLLING_PORT: PortKey = "tcp/445"

export interface DcPollingOptions {
  readonly device: string
  readonly serial: string
  readonly bus: EventBus
  /** When the analyzer started (Unix ms), its SMB2 ServerStartTime. */
  readonly startedAt: () => number
}

export class DcPolling {
  readonly #options: DcPollingOptions
  /** The analyzer's SMB2 ServerGuid: from its serial, so the same across restarts. */
  readonly #guid: Buffer
  /** Streams closed because they were not SMB2, by code. */
  readonly refused = new Map<Smb2DecodeError["code"] | "no-common-dialect", number>()

  constructor(options: DcPollingOptions) {
    this.#options = options
    this.#guid = crypto.createHash("sha256").update(options.serial).digest().subarray(0, 16)
  }

  connection(socket: net.Socket): void {
    const peer = peerOf(socket)
    const decoder = new Smb2Decoder()
    socket.on("data", (chunk: Buffer) => {
      const { frames, error } = decoder.push(chunk)
      for (const request of frames) this.#answer(socket, peer, request)
      if (error !== undefined) this.#refuse(socket, peer, error.code, `not SMB2 (${error.code}): ${error.detail}; closed`)
    })
  }

  #answer(socket: net.Socket, peer: string, request: Smb2Request): void {
    const { bus, device } = this.#options
    if (request.type === "smb1-negotiate" || request.command === 0) {
      const dialect = chooseDialect(request)
      if (dialect === null) {
        const offered = request.type === "smb1-negotiate" ? request.dialects.join(", ") : request.dialects.map(dialectName).join(", ")
        if (request.type === "smb2") socket.write(encodeErrorResponse(0, NT_STATUS.NOT_SUPPORTED, request.messageId, 0n))
        this.#refuse(socket, peer, "no-common-dialect", `no common SMB dialect: the client offers ${offered}; the analyzer speaks SMB 2.0.2 to 3.0.2`)
        return
      }
      socket.write(encodeNegotiateResponse({ dialect, messageId: request.type === "smb2" ? request.messageId : 0n, serverGuid: this.#guid, now: Date.now(), startedAt: this.#options.startedAt() }))
      bus.publish({ type: "smb-session", device, peer, dialect: dialectName(dialect), state: "negotiated", reason: `negotiated SMB ${dialectName(dialect)}` })
      return
    }
    const command = SMB2_COMMANDS[request.command] ?? `command ${request.command}`
    if (request.command === 1) {
      socket.write(encodeErrorResponse(1, NT_STATUS.ACCESS_DENIED, request.messageId, request.sessionId))
      bus.publish({ type: "smb-session", device, peer, dialect: null, state: "refused", reason: "session setup refused (NT_STATUS_ACCESS_DENIED): DC polling on TCP/445 answers the negotiate only" })
      return
    }
    socket.write(encodeErrorResponse(request.command, NT_STATUS.USER_SESSION_DELETED, request.messageId, request.sessionId))
    bus.publish({ type: "smb-session", device, peer, dialect: null, state: "refused", reason: `${command} without a session refused (NT_STATUS_USER_SESSION_DELETED)` })
  }

  #refuse(socket: net.Socket, peer: string, code: Smb2DecodeError["code"] | "no-common-dialect", reason: string): void {
    this.refused.set(code, (this.refused.get(code) ?? 0) + 1)
    this.#options.bus.publish({ type: "connection-closed", device: this.#options.device, port: DC_POLLING_PORT, peer, reason })
    socket.end()
  }
}
