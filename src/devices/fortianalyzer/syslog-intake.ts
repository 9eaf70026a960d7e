/**
 * The analyzer's syslog intake on UDP/514 and TCP/514: bytes in, stored logs and counters out.
 *
 * UDP: one datagram is one message. TCP: each connection gets its own RFC 6587 deframer, which
 * tells octet counting from LF framing by the first bytes. Every message is parsed (RFC 5424,
 * RFC 3164 or FortiOS default format, per message); what cannot be parsed is counted by reason
 * and published as `log-malformed` with the peer. A connection whose framing is lost is closed.
 * Nothing here throws into the socket layer: one bad peer never stops the listener.
 */
import type { RemoteInfo } from "node:dgram"
import type { Socket } from "node:net"
import type { EventBus } from "../../events/bus.ts"
import type { MalformedReason, PortKey } from "../../events/events.ts"
import { peerOf } from "../../net/tcp.ts"
import { SyslogDeframer } from "../../protocols/syslog/framing.ts"
import { KeyPicker } from "../../protocols/fortios/kv.ts"
import { type SyslogSummary, summarizeSyslog } from "../../protocols/syslog/message.ts"
import type { LogRecordInput } from "../../store/log-store.ts"
import type { StoreWriter } from "./store-writer.ts"

export interface IntakeLimits {
  /** Largest syslog frame accepted, in bytes (named limit `max-frame-bytes`). */
  readonly maxFrameBytes: number
}

export class SyslogIntake {
  readonly #device: string
  readonly #bus: EventBus
  readonly #writer: StoreWriter
  readonly #limits: IntakeLimits
  #lastUdpPeer: { readonly address: string; readonly port: number; readonly text: string } | null = null
  readonly malformed = new Map<MalformedReason, number>()
  received = 0

  constructor(options: { readonly device: string; readonly bus: EventBus; readonly writer: StoreWriter; readonly limits: IntakeLimits }) {
    this.#device = options.device
    this.#bus = options.bus
    this.#writer = options.writer
    this.#limits = options.limits
  }

  get malformedTotal(): number {
    let total = 0
    for (const count of this.malformed.values()) total += count
    return total
  }

  readonly onDatagram = (message: Buffer, peer: RemoteInfo): void => {
    const peerText = this.#udpPeer(peer)
    if (message.length > this.#limits.maxFrameBytes) {
      this.reject("udp/514", peerText, "frame-too-large", `datagram of ${message.length} bytes is over max-frame-bytes ${this.#limits.maxFrameBytes}`)
      return
    }
    let end = message.length
    while (end > 0 && (message[end - 1] === 0x0a || message[end - 1] === 0x00 || message[end - 1] === 0x0d)) end--
    this.#accept("udp", "udp/514", peerText, message.subarray(0, end))
  }

  /** A TCP/514 connection that is not TLS; `first` is the chunk already read from it. */
  readonly onConnection = (socket: Socket, first: Buffer): void => {
    const peer = peerOf(socket)
    const deframer = new SyslogDeframer({ maxFrameBytes: this.#limits.maxFrameBytes })
    let closeReason = "peer closed"
    this.#bus.publish({ type: "connection-accepted", device: this.#device, port: "tcp/514", peer })
    const onData = (chunk: Buffer) => {
      const result = deframer.push(chunk)
      for (const frame of result.frames) this.#accept("tcp", "tcp/514", peer, frame)
      if (result.error !== undefined) {
        this.reject("tcp/514", peer, result.error.reason, result.error.detail)
        if (result.error.fatal) {
          closeReason = `framing lost: ${result.error.reason}`
          socket.destroy()
        }
      }
    }
    onData(first)
    socket.on("data", onData)
    socket.on("end", () => {
      const result = deframer.end()
      for (const frame of result.frames) this.#accept("tcp", "tcp/514", peer, frame)
      if (result.error !== undefined) this.reject("tcp/514", peer, result.error.reason, result.error.detail)
      socket.end()
    })
    socket.on("error", (cause) => {
      closeReason = cause.message
    })
    socket.on("close", () => {
      this.#bus.publish({ type: "connection-closed", device: this.#device, port: "tcp/514", peer, reason: closeReason })
    })
  }

  /** `address:port` of a datagram's sender; the last one is kept, as most datagrams come from the same sender as the one before. */
  #udpPeer(peer: RemoteInfo): string {
    const last = this.#lastUdpPeer
    if (last !== null && last.address === peer.address && last.port === peer.port) return last.text
    const text = `${peer.address}:${peer.port}`
    this.#lastUdpPeer = { address: peer.address, port: peer.port, text }
    return text
  }

  #accept(transport: "udp" | "tcp", port: PortKey, peer: string, frame: Buffer): void {
    const parsed = summarizeSyslog(frame, INDEXED)
    if (!parsed.ok) {
      this.reject(port, peer, parsed.reason, parsed.detail)
      return
    }
    this.received++
    this.#writer.add(toRecord(parsed, frame, transport, peer))
  }

  /** Counts a malformed message and publishes `log-malformed` (also used by the analyzer's HTTPS intake). */
  reject(port: PortKey, peer: string, reason: MalformedReason, detail: string): void {
    this.malformed.set(reason, (this.malformed.get(reason) ?? 0) + 1)
    this.#bus.publish({ type: "log-malformed", device: this.#device, port, peer, reason, detail })
  }
}

/** The FortiOS fields the store indexes, and the two that name the sender. */
const INDEXED = new KeyPicker(["devname", "hostname", "devid", "logid", "type", "subtype", "level", "eventtime", "fazlab_seq"])

/** The record of a parsed message; its FortiOS fields are those of `raw`, which the store derives on read. */
const toRecord = (parsed: SyslogSummary, frame: Buffer, transport: "udp" | "tcp", peer: string): LogRecordInput => {
  const [devname, hostname, devid, logid, type, subtype, level, eventtime, seqText] = parsed.fields ?? []
  const seq = seqText === undefined ? Number.NaN : Number.parseInt(seqText, 10)
  return {
    receivedAt: Date.now(),
    transport,
    peer,
    format: parsed.format,
    facility: parsed.facility,
    severity: parsed.severity,
    device: devname ?? hostname ?? parsed.hostname ?? peer.slice(0, peer.lastIndexOf(":")),
    devid: devid ?? null,
    logid: logid ?? null,
    type: type ?? null,
    subtype: subtype ?? null,
    level: level ?? null,
    eventtime: eventtime ?? null,
    seq: Number.isNaN(seq) ? null : seq,
    raw: frame.toString("utf8"),
    fields: "from-raw"
  }
}
