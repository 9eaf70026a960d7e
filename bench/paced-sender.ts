/**
 * What the benchmark's syslog senders share (`syslog-blaster.ts`, and the paced TCP sender of
 * `ui-throughput.ts`): where and how much to send, a TCP connection whose report is made once,
 * RFC 6587 octet-counted framing written straight into a buffer, and the pacing loop that sends
 * what the clock says is due. Imports nothing of the lab, so a sender costs next to nothing.
 */
import * as net from "node:net"
import { now } from "./measure.ts"

export interface SendTarget {
  readonly host: string
  readonly port: number
  /** Logs to send. */
  readonly count: number
  /** Wall-clock ms (see `now`) after which the sender stops, reporting `aborted`. */
  readonly deadline: number
}

export interface PacedOptions extends SendTarget {
  /** Logs per second; 0 = as fast as the sender can. */
  readonly rate: number
}

export interface TcpLink {
  readonly socket: net.Socket
  /** Flushes what was written, then finishes. */
  end(): void
}

/**
 * Connects to the target; `finish(lastSendAt, errors)` runs once: after `end()` once every byte
 * is handed to the kernel, or on the first socket error (counted in `errors`).
 */
export const openTcp = (target: SendTarget, finish: (lastSendAt: number, errors: number) => void): TcpLink => {
  const socket = net.connect({ host: target.host, port: target.port })
  let errors = 0
  let done = false
  const once = (): void => {
    if (done) return
    done = true
    finish(now(), errors)
  }
  socket.on("error", () => {
    errors++
    once()
  })
  return { socket, end: () => socket.end(once) }
}

export const decimalLength = (value: number): number => (value < 10 ? 1 : Math.floor(Math.log10(value)) + 1)

/** Writes `value` as decimal ASCII at `pos`; returns the position after it. */
export const writeDecimal = (out: Buffer, pos: number, value: number): number => {
  const digits = decimalLength(value)
  let rest = value
  for (let i = digits - 1; i >= 0; i--) {
    out[pos + i] = 0x30 + (rest % 10)
    rest = Math.floor(rest / 10)
  }
  return pos + digits
}

/** Bytes `writeOctetCounted` may take beyond the message itself: up to 10 digits of MSG-LEN and the space. */
export const OCTET_COUNT_OVERHEAD = 11

/**
 * Writes one RFC 6587 frame at `pos`, `MSG-LEN SP MSG`, whose message is `template` followed by
 * `seq` in decimal (the templates end in `fazlab_seq=`); returns the position after it.
 */
export const writeOctetCounted = (out: Buffer, pos: number, template: Buffer, seq: number): number => {
  let at = writeDecimal(out, pos, template.length + decimalLength(seq))
  out[at++] = 0x20
  at += template.copy(out, at)
  return writeDecimal(out, at, seq)
}

/**
 * Sends `count` at `rate` per second from `startedAt`: each ~1 ms timer tick calls `send(n)` with
 * what the clock says is due, at most 10 ms' worth at once (rate 0: 256 at each turn of the event
 * loop). `send` returns a promise when the sender must wait (TCP `drain`) before the next tick.
 * Calls `done(aborted)` once all are sent, or with `aborted` true once `deadline` has passed.
 */
export const pace = (options: PacedOptions, startedAt: number, send: (n: number) => Promise<void> | undefined, done: (aborted: boolean) => void): void => {
  const maxBurst = Math.max(1, Math.ceil(options.rate / 100))
  let sent = 0
  const tick = (): void => {
    const at = now()
    const aborted = at > options.deadline
    if (aborted || sent >= options.count) return done(aborted)
    if (options.rate === 0) {
      const n = Math.min(256, options.count - sent)
      sent += n
      void send(n)
      setImmediate(tick)
      return
    }
    const due = Math.min(options.count, Math.floor(((at - startedAt) * options.rate) / 1000) + 1)
    const n = Math.min(due - sent, maxBurst)
    if (n > 0) {
      sent += n
      const wait = send(n)
      if (wait !== undefined) {
        void wait.then(tick)
        return
      }
    }
    setTimeout(tick, 1)
  }
  tick()
}
