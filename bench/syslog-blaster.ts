/**
 * The benchmark's syslog sender, run as its own process so it never shares the receiver's
 * event loop: `node bench/syslog-blaster.ts --transport tcp|udp --host H --port P --count N
 * [--rate R] [--max-seconds S]`.
 *
 * It pre-generates 1,000 distinct ~300-byte FortiOS traffic logs (FortiOS "default" format:
 * `<PRI>` then key=value) and sends `count` of them, each ending in a unique `fazlab_seq=N`.
 * TCP: RFC 6587 octet counting, packed into large writes, waiting for `drain` whenever the
 * socket says so. UDP: one log per datagram over a connected socket, paced at `rate` per
 * second in small bursts each millisecond tick (rate 0 = as fast as possible). It stops after
 * `count` logs or `max-seconds`, whichever comes first, and prints one JSON line
 * (`BlasterReport`) on stdout.
 */
import * as dgram from "node:dgram"
import * as net from "node:net"
import { parseArgs } from "node:util"
import { seededRandom } from "../src/devices/shared/random.ts"
import { formatKeyValues } from "../src/protocols/fortios/kv.ts"
import { makeFortiOsLog } from "../src/protocols/fortios/logs.ts"
import { FACILITIES, SEVERITIES, encodeSyslog } from "../src/protocols/syslog/encode.ts"

export interface BlasterReport {
  readonly transport: "tcp" | "udp"
  /** Logs handed to the kernel (TCP: written and flushed; UDP: datagrams sent). */
  readonly sent: number
  readonly bytes: number
  /** Wall-clock milliseconds (performance.timeOrigin based) of the first and last send. */
  readonly firstSendAt: number
  readonly lastSendAt: number
  /** Logs per second over that span: the sender's raw (or offered) rate. */
  readonly rate: number
  /** Send errors seen (UDP: e.g. ECONNREFUSED; TCP: the connection failed). */
  readonly errors: number
  /** True when `max-seconds` ran out before `count` logs were sent. */
  readonly aborted: boolean
}

/** The sending FortiGate: its name is the `from` of the analyzer's `logs-stored` events. */
export const BLASTER_DEVICE = { name: "FGT60F-bench", serial: "FGT60FTK20009999" } as const

const DISTINCT_LOGS = 1000
/** The traffic-log fields kept, so a message is ~300 bytes as the issue asks: FortiOS' header, the addresses, the verdict. */
const KEPT_FIELDS = new Set([
  "date", "time", "devname", "devid", "eventtime", "logid", "type", "subtype", "level",
  "srcip", "srcport", "dstip", "dstport", "action", "policyid", "service"
])

/** 1,000 distinct syslog messages, each ending in `fazlab_seq=` so the sender only appends the number. */
export const makeTemplates = (): Buffer[] => {
  const random = seededRandom("fazlab-bench")
  const start = 1_767_225_600_000_000_000n // 2026-01-01T00:00:00Z in ns
  const templates: Buffer[] = []
  for (let i = 0; i < DISTINCT_LOGS; i++) {
    const fields = makeFortiOsLog({
      device: BLASTER_DEVICE,
      kind: i % 4 === 3 ? "traffic-local" : "traffic-forward",
      seq: i,
      epochNs: start + BigInt(i) * 1_000_000n,
      random
    }).filter(([key]) => KEPT_FIELDS.has(key))
    templates.push(
      encodeSyslog({
        format: "default",
        facility: FACILITIES.local7,
        severity: SEVERITIES.notice,
        hostname: BLASTER_DEVICE.name,
        timestamp: new Date(0),
        message: `${formatKeyValues(fields)} fazlab_seq=`
      })
    )
  }
  return templates
}

/** Writes `value` as decimal ASCII at `pos`; returns the position after it. */
const writeDecimal = (out: Buffer, pos: number, value: number): number => {
  const digits = value < 10 ? 1 : Math.floor(Math.log10(value)) + 1
  let rest = value
  for (let i = digits - 1; i >= 0; i--) {
    out[pos + i] = 0x30 + (rest % 10)
    rest = Math.floor(rest / 10)
  }
  return pos + digits
}

const decimalLength = (value: number): number => (value < 10 ? 1 : Math.floor(Math.log10(value)) + 1)

const now = (): number => performance.timeOrigin + performance.now()

interface Options {
  readonly host: string
  readonly port: number
  readonly count: number
  readonly rate: number
  readonly deadline: number
}

const TCP_CHUNK = 256 * 1024

const blastTcp = (templates: ReadonlyArray<Buffer>, options: Options): Promise<BlasterReport> =>
  new Promise((resolve) => {
    const socket = net.connect({ host: options.host, port: options.port })
    let sent = 0
    let bytes = 0
    let firstSendAt = 0
    let errors = 0
    let aborted = false
    let done = false
    const finish = () => {
      if (done) return
      done = true
      const lastSendAt = now()
      resolve({ transport: "tcp", sent, bytes, firstSendAt, lastSendAt, rate: rate(sent, firstSendAt, lastSendAt), errors, aborted })
    }
    socket.on("error", () => {
      errors++
      finish()
    })
    const pump = () => {
      while (sent < options.count) {
        if (now() > options.deadline) {
          aborted = true
          break
        }
        const chunk = Buffer.allocUnsafe(TCP_CHUNK)
        let pos = 0
        while (sent < options.count) {
          const template = templates[sent % templates.length] as Buffer
          const length = template.length + decimalLength(sent)
          // MSG-LEN SP MSG: at most 10 digits of length, a space, then the message.
          if (pos + length + 11 > TCP_CHUNK) break
          pos = writeDecimal(chunk, pos, length)
          chunk[pos++] = 0x20
          pos += template.copy(chunk, pos)
          pos = writeDecimal(chunk, pos, sent)
          sent++
        }
        if (firstSendAt === 0) firstSendAt = now()
        bytes += pos
        if (!socket.write(chunk.subarray(0, pos))) {
          socket.once("drain", pump)
          return
        }
      }
      // `finish` fires once every byte is handed to the kernel.
      socket.end(finish)
    }
    socket.once("connect", pump)
  })

const blastUdp = (templates: ReadonlyArray<Buffer>, options: Options): Promise<BlasterReport> =>
  new Promise((resolve) => {
    const socket = dgram.createSocket({ type: net.isIPv6(options.host) ? "udp6" : "udp4", sendBufferSize: 4 * 1024 * 1024 })
    let sent = 0
    let bytes = 0
    let errors = 0
    let firstSendAt = 0
    let lastSendAt = 0
    let aborted = false
    socket.on("error", () => errors++)
    const send = (): void => {
      const template = templates[sent % templates.length] as Buffer
      const datagram = Buffer.allocUnsafe(template.length + decimalLength(sent))
      template.copy(datagram, 0)
      writeDecimal(datagram, template.length, sent)
      socket.send(datagram)
      bytes += datagram.length
      sent++
    }
    const finish = () => {
      lastSendAt = now()
      socket.close()
      resolve({ transport: "udp", sent, bytes, firstSendAt, lastSendAt, rate: rate(sent, firstSendAt, lastSendAt), errors, aborted })
    }
    // Paced: each timer tick (~1 ms) sends what is due by the clock, at most 10 ms' worth at once.
    const maxBurst = Math.max(1, Math.ceil(options.rate / 100))
    const tick = () => {
      const at = now()
      if (at > options.deadline) aborted = true
      if (aborted || sent >= options.count) return finish()
      if (options.rate === 0) {
        for (let i = 0; i < 256 && sent < options.count; i++) send()
        setImmediate(tick)
        return
      }
      const due = Math.min(options.count, Math.floor(((at - firstSendAt) * options.rate) / 1000) + 1)
      for (let i = 0; i < maxBurst && sent < due; i++) send()
      setTimeout(tick, 1)
    }
    socket.connect(options.port, options.host, () => {
      firstSendAt = now()
      tick()
    })
  })

const rate = (sent: number, first: number, last: number): number => (last > first ? (sent * 1000) / (last - first) : 0)

const main = async (): Promise<void> => {
  const { values } = parseArgs({
    options: {
      transport: { type: "string" },
      host: { type: "string" },
      port: { type: "string" },
      count: { type: "string", default: "100000" },
      rate: { type: "string", default: "0" },
      "max-seconds": { type: "string", default: "60" }
    }
  })
  const transport = values.transport
  const port = Number(values.port)
  if ((transport !== "tcp" && transport !== "udp") || values.host === undefined || !Number.isInteger(port)) {
    process.stderr.write("usage: node bench/syslog-blaster.ts --transport tcp|udp --host H --port P [--count N] [--rate R] [--max-seconds S]\n")
    process.exitCode = 2
    return
  }
  const templates = makeTemplates()
  const options: Options = {
    host: values.host,
    port,
    count: Number(values.count),
    rate: Number(values.rate),
    deadline: now() + Number(values["max-seconds"]) * 1000
  }
  const report = transport === "tcp" ? await blastTcp(templates, options) : await blastUdp(templates, options)
  process.stdout.write(`${JSON.stringify(report)}\n`)
}

if (import.meta.main) await main()
