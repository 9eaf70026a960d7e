/**
 * A sender's link to a syslog receiver, in the three FortiOS `log syslogd setting` modes:
 * `udp` (one datagram per log), `reliable` (TCP, RFC 6587 octet counting) and
 * `legacy-reliable` (TCP, LF after each message).
 *
 * `send` returns false when the TCP socket's buffer is full; the caller waits for `onDrain`.
 * `onClose` fires once with a reason when the peer goes away.
 */
import type { Socket } from "node:net"
import { encodeLf, encodeOctetCounted } from "../../protocols/syslog/framing.ts"
import { dialTcp } from "../../net/tcp.ts"
import { openUdpSender } from "../../net/udp.ts"

export type SyslogMode = "udp" | "reliable" | "legacy-reliable"

export interface SyslogLink {
  send(message: Buffer): boolean
  onDrain(callback: () => void): void
  onClose(callback: (reason: string) => void): void
  close(): Promise<void>
}

export interface SyslogLinkTarget {
  readonly mode: SyslogMode
  readonly host: string
  readonly port: number
  readonly localAddress?: string
  readonly connectTimeoutMs: number
  readonly signal?: AbortSignal
}

export const openSyslogLink = async (target: SyslogLinkTarget): Promise<SyslogLink> =>
  target.mode === "udp" ? openUdpLink(target) : openTcpLink(target, await dialTcp({
    host: target.host,
    port: target.port,
    timeoutMs: target.connectTimeoutMs,
    ...(target.localAddress === undefined ? {} : { localAddress: target.localAddress }),
    ...(target.signal === undefined ? {} : { signal: target.signal })
  }))

const openUdpLink = async (target: SyslogLinkTarget): Promise<SyslogLink> => {
  // Port 0: the receiver is in this lab and has not bound its kernel-chosen port yet (an HA
  // group's virtual IP between two primaries). Fail like a refused connection: the sender retries.
  if (target.port === 0) throw new Error(`${target.host} does not listen on UDP yet`)
  const socket = await openUdpSender({
    host: target.host,
    sendBufferBytes: 4 * 1024 * 1024,
    ...(target.localAddress === undefined ? {} : { localAddress: target.localAddress })
  })
  const raw = socket.socket
  // Datagrams handed to the socket are sent asynchronously: closing waits for the last ones.
  let inFlight = 0
  let flushed: (() => void) | null = null
  const sent = () => {
    inFlight--
    if (inFlight === 0) flushed?.()
  }
  return {
    send: (message) => {
      inFlight++
      raw.send(message, target.port, target.host, sent)
      return true
    },
    onDrain: (callback) => setImmediate(callback),
    onClose: () => undefined,
    close: async () => {
      if (inFlight > 0) await new Promise<void>((resolve) => (flushed = resolve))
      await socket.close()
    }
  }
}

const openTcpLink = (target: SyslogLinkTarget, socket: Socket): SyslogLink => {
  const frame = target.mode === "reliable" ? encodeOctetCounted : encodeLf
  let closeReason = "the receiver closed the connection"
  socket.on("error", (cause) => {
    closeReason = `connection lost: ${cause.message}`
  })
  return {
    send: (message) => socket.write(frame(message)),
    onDrain: (callback) => socket.once("drain", callback),
    onClose: (callback) => socket.once("close", () => callback(closeReason)),
    close: () =>
      new Promise((resolve) => {
        if (socket.destroyed) return resolve()
        socket.once("close", () => resolve())
        socket.end()
        setTimeout(() => socket.destroy(), 1000).unref()
      })
  }
}
