/**
 * The analyzer's syslog intake on UDP/514 and TCP/514: bytes in, stored logs and counters out.
 *
 * UDP: one datagram is one message; the analyzer receives them on a worker thread
 * (`udp-intake.ts`) and hands them over in batches to `onUdpBatch`, while `onDatagram` takes one
 * datagram received on this thread. TCP: each connection gets its own RFC 6587 deframer, which
 * tells octet counting from LF framing by the first bytes. Every message is parsed (RFC 5424,
 * RFC 3164 or FortiOS default format, per message, by the store writer: on this thread or on the
 * analyzer's store thread); what cannot be parsed is counted by reason and published as
 * `log-malformed` with the peer; a FortiOS log that is cut or damaged is stored with its
 * well-formed fields, counted by reason and published as `log-partial`. A connection whose
 * framing is lost is closed.
 * Nothing here throws into the socket layer: one bad peer never stops the listener.
 */
import type { RemoteInfo } from "node:dgram"
import type { Socket } from "node:net"
import type { EventBus } from "../../events/bus.ts"
import { isReported, type MalformedReason, type PartialLogReason, type PortKey } from "../../events/events.ts"
import { peerOf } from "../../net/tcp.ts"
import { SyslogDeframer } from "../../protocols/syslog/framing.ts"
import type { PartialLog } from "./store-thread.ts"
import type { StoreWriter } from "./store-writer.ts"
import { forEachDatagram, MAX_BACKLOG_BYTES, type UdpBatch } from "./udp-intake.ts"

export interface IntakeLimits {
  /** Largest syslog frame accepted, in bytes (named limit `max-frame-bytes`). */
  readonly maxFrameBytes: number
}

export class SyslogIntake {
  readonly #device: string
  readonly #bus: EventBus
  readonly #writer: StoreWriter
  readonly #limits: IntakeLimits
  readonly malformed = new Map<MalformedReason, number>()
  /** FortiOS logs stored with part of their fields, by why (docs/errors.md, "Partial logs"). */
  readonly partial = new Map<PartialLogReason, number>()
  received = 0
  /** UDP datagrams received and dropped because the store was too far behind (`MAX_BACKLOG_BYTES`). */
  shed = 0
  /** UDP datagrams the kernel dropped before the receiver thread read them. */
  kernelDropped = 0

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
    this.#writer.addFrame(message, "udp", `${peer.address}:${peer.port}`)
  }

  /** Datagrams received on the UDP receiver thread, in the order received. */
  readonly onUdpBatch = (batch: UdpBatch): void => {
    forEachDatagram(batch, (datagram, peer) => this.#writer.addFrame(datagram, "udp", peer))
    if (batch.shed > 0) {
      this.shed += batch.shed
      const reason = `UDP/514 received logs faster than the store took them: more than ${MAX_BACKLOG_BYTES / 2 ** 20} MiB waited to be stored, so these were dropped (lower the senders' rate, or give the lab more CPU)`
      this.#bus.publish({ type: "logs-dropped", device: this.#device, count: batch.shed, total: this.shed + this.kernelDropped, reason })
    }
    if (batch.kernelDropped > 0) {
      this.kernelDropped += batch.kernelDropped
      const reason = "the kernel dropped them before they were read: UDP/514's receive buffer was full (raise udp-receive-buffer and net.core.rmem_max, lower the senders' rate, or give the lab more CPU)"
      this.#bus.publish({ type: "logs-dropped", device: this.#device, count: batch.kernelDropped, total: this.shed + this.kernelDropped, reason })
    }
  }

  /** A TCP/514 connection that is not TLS; `first` is the chunk already read from it. */
  readonly onConnection = (socket: Socket, first: Buffer): void => {
    const peer = peerOf(socket)
    const deframer = new SyslogDeframer({ maxFrameBytes: this.#limits.maxFrameBytes })
    let closeReason = "peer closed"
    this.#bus.publish({ type: "connection-accepted", device: this.#device, port: "tcp/514", peer })
    const onData = (chunk: Buffer) => {
      const result = deframer.push(chunk)
      for (const frame of result.frames) this.#writer.addFrame(frame, "tcp", peer)
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
      for (const frame of result.frames) this.#writer.addFrame(frame, "tcp", peer)
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

  /** A FortiOS log stored with only its well-formed fields: counted by reason, published thinned (`isReported`). */
  partialLog({ port, peer, damage }: PartialLog): void {
    const count = (this.partial.get(damage.reason) ?? 0) + 1
    this.partial.set(damage.reason, count)
    if (!isReported(count)) return
    const detail = damage.reason === "truncated"
      ? `${damage.detail}; stored with the fields before it (util-linux logger cuts messages at 1 KiB unless given --size)`
      : `${damage.detail}; skipped it and stored the fields around it`
    this.#bus.publish({ type: "log-partial", device: this.#device, port, peer, reason: damage.reason, detail, count })
  }

  /** Counts a malformed message and publishes `log-malformed` (also used by the analyzer's HTTPS intake). */
  reject(port: PortKey, peer: string, reason: MalformedReason, detail: string): void {
    this.malformed.set(reason, (this.malformed.get(reason) ?? 0) + 1)
    this.#bus.publish({ type: "log-malformed", device: this.#device, port, peer, reason, detail })
  }
}
