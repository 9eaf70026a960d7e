/**
 * The benchmark's OFTP sender: one session spoken straight with the codec, so the sender costs
 * next to nothing and the analyzer is what is measured:
 * `node bench/oftp-blaster.ts --host H --port P [--count N] [--batch B] [--window W] [--max-seconds S]`.
 *
 * It connects with TLS (certificate not verified, as FortiOS `certificate-verification disable`),
 * sends HELLO as the FortiGate `OFTP_BLASTER`, and once HELLO_REPLY says `authorized` sends
 * `count` records in LOGS batches of `batch` (1000), at most `window` (8) batches awaiting their
 * ACK, as fazlab's FortiGate does. The records are 1,000 distinct FortiOS logs of the kinds a
 * fazlab FortiGate generates (~640 bytes each), encoded into one LOGS frame once: each batch is a
 * copy with its `firstSeq` patched in. It stops when an ACK covers the last record, on an error,
 * or after `max-seconds`, and prints one JSON line (`OftpBlasterReport`) on stdout.
 */
import * as tls from "node:tls"
import { parseArgs } from "node:util"
import { pickKind } from "../src/devices/fortigate/log-mix.ts"
import { seededRandom } from "../src/devices/shared/random.ts"
import { formatKeyValues } from "../src/protocols/fortios/kv.ts"
import { makeFortiOsLog } from "../src/protocols/fortios/logs.ts"
import { encodeFrame, OFTP_HEADER_BYTES, OftpDecoder } from "../src/protocols/oftp/frames.ts"

import { positiveWholeNumbers, usage } from "./cli-args.ts"
export interface OftpBlasterReport {
  readonly type: "oftp-blaster"
  /** The sender's hostname: the `device` its logs are stored under. */
  readonly device: string
  /** Records written in LOGS frames. */
  readonly sent: number
  /** Highest sequence number an ACK covered: the records the receiver says are stored. */
  readonly acked: number
  readonly bytes: number
  /** Average record size in bytes (the text, without its NUL). */
  readonly recordBytes: number
  /** Wall-clock ms (performance.timeOrigin based) of the first LOGS frame and of the last ACK. */
  readonly firstSendAt: number
  readonly lastAckAt: number
  /** Acknowledged records per second over that span. */
  readonly rate: number
  /** HELLO_REPLY `status`, or null if none came. */
  readonly helloStatus: string | null
  /** What went wrong (connection, ERROR frame, bad frame), or null. */
  readonly error: string | null
  /** True when `max-seconds` ran out first. */
  readonly aborted: boolean
}

/** The sending FortiGate: its hostname is the `device` of its stored logs. */
export const OFTP_BLASTER = { hostname: "FGT60F-oftp-bench", serial: "FGT60FTK20008888", vdom: "root" } as const

const DISTINCT_RECORDS = 1000

/** 1,000 distinct FortiOS logs as a fazlab FortiGate makes them (its default mix of kinds). */
export const makeRecords = (): string[] => {
  const random = seededRandom("fazlab-oftp-bench")
  const start = 1_767_225_600_000_000_000n // 2026-01-01T00:00:00Z in ns
  const device = { name: OFTP_BLASTER.hostname, serial: OFTP_BLASTER.serial, vdom: OFTP_BLASTER.vdom }
  const records: string[] = []
  for (let i = 0; i < DISTINCT_RECORDS; i++) {
    const fields = makeFortiOsLog({ device, kind: pickKind(random, null), seq: i + 1, epochNs: start + BigInt(i) * 1_000_000n, random })
    records.push(formatKeyValues(fields))
  }
  return records
}

const now = (): number => performance.timeOrigin + performance.now()

interface Options {
  readonly host: string
  readonly port: number
  readonly count: number
  readonly batch: number
  readonly window: number
  readonly deadline: number
}

const blast = (records: ReadonlyArray<string>, options: Options): Promise<OftpBlasterReport> =>
  new Promise((resolve) => {
    const batchRecords = records.slice(0, options.batch)
    // Records cycle through the 1,000 templates; a batch of `batch` always holds the same texts.
    while (batchRecords.length < options.batch) batchRecords.push(records[batchRecords.length % records.length] as string)
    const template = encodeFrame({ type: "logs", firstSeq: 1, records: batchRecords })
    const recordBytes = batchRecords.reduce((sum, text) => sum + Buffer.byteLength(text), 0) / batchRecords.length
    const decoder = new OftpDecoder({ maxFrameBytes: 1024 * 1024 })
    let sent = 0
    let acked = 0
    let bytes = 0
    let inFlight = 0
    let firstSendAt = 0
    let lastAckAt = 0
    let helloStatus: string | null = null
    let error: string | null = null
    let aborted = false
    let done = false
    const socket = tls.connect({ host: options.host, port: options.port, rejectUnauthorized: false, checkServerIdentity: () => undefined })
    const deadline = setTimeout(() => {
      aborted = true
      finish()
    }, Math.max(0, options.deadline - now()))
    const finish = () => {
      if (done) return
      done = true
      clearTimeout(deadline)
      if (error === null && !aborted) socket.end(encodeFrame({ type: "close", reason: "benchmark done" }))
      else socket.destroy()
      const span = lastAckAt - firstSendAt
      resolve({
        type: "oftp-blaster",
        device: OFTP_BLASTER.hostname,
        sent,
        acked,
        bytes,
        recordBytes,
        firstSendAt,
        lastAckAt,
        rate: span > 0 ? (acked * 1000) / span : 0,
        helloStatus,
        error,
        aborted
      })
    }
    const pump = () => {
      while (inFlight < options.window && sent < options.count) {
        const firstSeq = sent + 1
        const size = Math.min(options.batch, options.count - sent)
        let frame: Buffer
        if (size === options.batch) {
          frame = Buffer.allocUnsafe(template.length)
          template.copy(frame)
          frame.writeBigUInt64BE(BigInt(firstSeq), OFTP_HEADER_BYTES)
        } else {
          frame = encodeFrame({ type: "logs", firstSeq, records: batchRecords.slice(0, size) })
        }
        if (firstSendAt === 0) firstSendAt = now()
        socket.write(frame)
        bytes += frame.length
        sent += size
        inFlight++
      }
    }
    socket.on("error", (cause: Error) => {
      error ??= `connection failed: ${cause.message}`
      finish()
    })
    socket.on("close", () => {
      error ??= acked < options.count ? "the receiver closed the connection" : null
      finish()
    })
    socket.once("secureConnect", () => {
      socket.write(encodeFrame({
        type: "hello",
        hello: {
          serial: OFTP_BLASTER.serial,
          hostname: OFTP_BLASTER.hostname,
          platform: "FortiGate-60F",
          version: "v7.4.4",
          vdoms: [OFTP_BLASTER.vdom],
          uploadOption: "realtime",
          keepaliveMs: 5000
        }
      }))
    })
    socket.on("data", (chunk: Buffer) => {
      const result = decoder.push(chunk)
      for (const frame of result.frames) {
        switch (frame.type) {
          case "hello-reply":
            helloStatus = frame.reply.status
            if (frame.reply.status !== "authorized") {
              error = "the receiver answered HELLO with `pending`: turn on oftp auto-authorize"
              return finish()
            }
            pump()
            break
          case "ack": {
            // Each ACK covers whole batches (the receiver stores a batch in one transaction).
            const batches = Math.ceil(Math.max(0, frame.upTo - acked) / options.batch)
            inFlight = Math.max(0, inFlight - batches)
            acked = Math.max(acked, frame.upTo)
            lastAckAt = now()
            if (acked >= options.count) return finish()
            pump()
            break
          }
          case "keepalive":
            socket.write(encodeFrame({ type: "keepalive-reply" }))
            break
          case "error":
            error = `ERROR frame: ${frame.code} (${frame.reason})`
            return finish()
          default:
            break
        }
      }
      if (result.error !== undefined) {
        error = `bad frame from the receiver: ${result.error.code} (${result.error.detail})`
        finish()
      }
    })
  })

const main = async (): Promise<void> => {
  const { values } = parseArgs({
    options: {
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string" },
      count: { type: "string", default: "300000" },
      batch: { type: "string", default: "1000" },
      window: { type: "string", default: "8" },
      "max-seconds": { type: "string", default: "60" }
    }
  })
  const numbers = positiveWholeNumbers([values.port, values.count, values.batch, values.window, values["max-seconds"]])
  if (numbers === null) {
    usage("node bench/oftp-blaster.ts --port P [--host H] [--count N] [--batch B] [--window W] [--max-seconds S] (positive whole numbers)")
    return
  }
  const [port, count, batch, window, maxSeconds] = numbers as [number, number, number, number, number]
  const report = await blast(makeRecords(), { host: values.host, port, count, batch, window, deadline: now() + maxSeconds * 1000 })
  process.stdout.write(`${JSON.stringify(report)}\n`)
}

if (import.meta.main) await main()
