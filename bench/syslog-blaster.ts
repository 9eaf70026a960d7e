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
import { usage } from "./cli-args.ts"
import { now, perSecond } from "./measure.ts"
import { decimalLength, OCTET_COUNT_OVERHEAD, openTcp, pace, type PacedOptions, writeDecimal, writeOctetCounted } from "./paced-sender.ts"

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

const TCP_CHUNK = 256 * 1024

const blastTcp = (templates: ReadonlyArray<Buffer>, options: PacedOptions): Promise<BlasterReport> =>
  new Promise((resolve) => {
    let sent = 0
    let bytes = 0
    let firstSendAt = 0
    let aborted = false
    const link = openTcp(options, (lastSendAt, errors) =>
      resolve({ transport: "tcp", sent, bytes, firstSendAt, lastSendAt, rate: perSecond(sent, firstSendAt, lastSendAt), errors, aborted }))
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
          if (pos + template.length + decimalLength(sent) + OCTET_COUNT_OVERHEAD > TCP_CHUNK) break
          pos = writeOctetCounted(chunk, pos, template, sent)
          sent++
        }
        if (firstSendAt === 0) firstSendAt = now()
        bytes += pos
        if (!link.socket.write(chunk.subarray(0, pos))) {
          link.socket.once("drain", pump)
          return
        }
      }
      // `finish` fires once every byte is handed to the kernel.
      link.end()
    }
    link.socket.once("connect", pump)
  })

const blastUdp = (templates: ReadonlyArray<Buffer>, options: PacedOptions): Promise<BlasterReport> =>
  new Promise((resolve) => {
    const socket = dgram.createSocket({ type: net.isIPv6(options.host) ? "udp6" : "udp4", sendBufferSize: 4 * 1024 * 1024 })
    let sent = 0
    let bytes = 0
    let errors = 0
    let firstSendAt = 0
    socket.on("error", () => errors++)
    const send = (n: number): undefined => {
      for (let i = 0; i < n; i++, sent++) {
        const template = templates[sent % templates.length] as Buffer
        const datagram = Buffer.allocUnsafe(template.length + decimalLength(sent))
        template.copy(datagram, 0)
        writeDecimal(datagram, template.length, sent)
        socket.send(datagram)
        bytes += datagram.length
      }
      return undefined
    }
    const finish = (aborted: boolean) => {
      const lastSendAt = now()
      socket.close()
      resolve({ transport: "udp", sent, bytes, firstSendAt, lastSendAt, rate: perSecond(sent, firstSendAt, lastSendAt), errors, aborted })
    }
    socket.connect(options.port, options.host, () => {
      firstSendAt = now()
      pace(options, firstSendAt, send, finish)
    })
  })

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
    usage("node bench/syslog-blaster.ts --transport tcp|udp --host H --port P [--count N] [--rate R] [--max-seconds S]")
    return
  }
  const templates = makeTemplates()
  const options: PacedOptions = {
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
