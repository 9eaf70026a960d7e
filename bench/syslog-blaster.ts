/**
 * The benchmark's syslog sender, run as its own process so it never shares the receiver's
 * event loop: `node bench/syslog-blaster.ts --transport tcp|udp --host H --port P --count N
 * [--rate R] [--max-seconds S]`.
 *
 * It pre-generates 1,000 distinct FortiOS logs (FortiOS "default" format: `<PRI>` then
 * key=value; `--logs short`: ~300-byte traffic logs, the default; `--logs mix`: the realistic mix of
 * `makeLogLines`) and sends `count` of them, each ending in a unique `fazlab_seq=N`.
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
import { type LogKind, makeFortiOsLog } from "../src/protocols/fortios/logs.ts"
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
  /** CPU seconds the sending process used (user + system), null when not measured. */
  readonly cpuSeconds: number | null
}

/** The sending FortiGate: its name is the `from` of the analyzer's `logs-stored` events. */
export const BLASTER_DEVICE = { name: "FGT60F-bench", serial: "FGT60FTK20009999" } as const

const DISTINCT_LOGS = 1000
/** The traffic-log fields kept, so a message is ~300 bytes as the issue asks: FortiOS' header, the addresses, the verdict. */
const KEPT_FIELDS = new Set([
  "date", "time", "devname", "devid", "eventtime", "logid", "type", "subtype", "level",
  "srcip", "srcport", "dstip", "dstport", "action", "policyid", "service"
])

/** Which logs a sender sends: ~300-byte traffic logs, or the realistic mix of `makeLogLines`. */
export type LogSizes = "short" | "mix"

/**
 * What a FortiGate with SD-WAN, geo lookups and address objects adds to a forward traffic log
 * (FortiOS 7.x field names): it takes a 650-byte log past 1 KiB.
 */
const LONG_TRAFFIC_FIELDS: ReadonlyArray<readonly [string, string | number]> = [
  ["srcuuid", "5ab6ecb2-5b3e-51ee-9b4d-5e7d1e3f0a11"],
  ["dstuuid", "5ab6ecb2-5b3e-51ee-9b4d-5e7d1e3f0a12"],
  ["srcmac", "00:09:0f:aa:01:23"],
  ["mastersrcmac", "00:09:0f:aa:01:23"],
  ["srcserver", 0],
  ["dstregion", "California"],
  ["dstcity", "San Jose"],
  ["vwlid", 1],
  ["vwlname", "DIA-web"],
  ["vwlquality", "Seq_num(1 wan1), alive, selected"],
  ["vwlservice", "DIA-web"],
  ["sdwanrulename", "DIA-web"],
  ["osname", "Windows"],
  ["srchwvendor", "Dell"],
  ["devtype", "Computer"],
  ["srcfamily", "Computer"],
  ["unauthuser", "alice"],
  ["unauthusersource", "kerberos"],
  ["utmaction", "allow"],
  ["countweb", 1]
]

/**
 * The mix's kinds, one per tenth: half traffic (two of those five with the fields above), three
 * tenths UTM, two tenths events: 450-1,400 bytes, ~800 on average.
 */
const MIX: ReadonlyArray<{ readonly kind: LogKind; readonly long: boolean }> = [
  { kind: "traffic-forward", long: false },
  { kind: "traffic-forward", long: true },
  { kind: "traffic-forward", long: false },
  { kind: "traffic-local", long: false },
  { kind: "traffic-forward", long: true },
  { kind: "utm-webfilter", long: false },
  { kind: "utm-ips", long: false },
  { kind: "utm-app-ctrl", long: false },
  { kind: "event-system", long: false },
  { kind: "event-vpn", long: false }
]

/**
 * 1,000 distinct FortiOS log lines (key=value text, no syslog header): `short`, ~300-byte traffic
 * logs; `mix`, the realistic mix (typical FortiOS traffic logs are 700-800 bytes, over 1 KiB with
 * policy UUIDs, geo and SD-WAN fields; UTM and event logs beside them).
 */
export const makeLogLines = (sizes: LogSizes): string[] => {
  const random = seededRandom("fazlab-bench")
  const start = 1_767_225_600_000_000_000n // 2026-01-01T00:00:00Z in ns
  const lines: string[] = []
  for (let i = 0; i < DISTINCT_LOGS; i++) {
    const pick: { readonly kind: LogKind; readonly long: boolean } = sizes === "short"
      ? { kind: i % 4 === 3 ? "traffic-local" : "traffic-forward", long: false }
      : (MIX[i % MIX.length] ?? { kind: "traffic-forward", long: false })
    const fields = makeFortiOsLog({ device: BLASTER_DEVICE, kind: pick.kind, seq: i, epochNs: start + BigInt(i) * 1_000_000n, random })
    lines.push(formatKeyValues(sizes === "short" ? fields.filter(([key]) => KEPT_FIELDS.has(key)) : pick.long ? [...fields, ...LONG_TRAFFIC_FIELDS] : fields))
  }
  return lines
}

/** A log line as FortiOS sends it over syslog in its `default` format: `<PRI>` then the line. */
export const syslogLine = (line: string): Buffer =>
  encodeSyslog({ format: "default", facility: FACILITIES.local7, severity: SEVERITIES.notice, hostname: BLASTER_DEVICE.name, timestamp: new Date(0), message: line })

/** 1,000 distinct syslog messages, each ending in `fazlab_seq=` so the sender only appends the number. */
export const makeTemplates = (sizes: LogSizes = "short"): Buffer[] => makeLogLines(sizes).map((line) => syslogLine(`${line} fazlab_seq=`))

const TCP_CHUNK = 256 * 1024

const blastTcp = (templates: ReadonlyArray<Buffer>, options: PacedOptions): Promise<Omit<BlasterReport, "cpuSeconds">> =>
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

const blastUdp = (templates: ReadonlyArray<Buffer>, options: PacedOptions): Promise<Omit<BlasterReport, "cpuSeconds">> =>
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
      "max-seconds": { type: "string", default: "60" },
      logs: { type: "string", default: "short" }
    }
  })
  const transport = values.transport
  const port = Number(values.port)
  const logs = values.logs
  if ((transport !== "tcp" && transport !== "udp") || values.host === undefined || !Number.isInteger(port) || (logs !== "short" && logs !== "mix")) {
    usage("node bench/syslog-blaster.ts --transport tcp|udp --host H --port P [--count N] [--rate R] [--max-seconds S] [--logs short|mix]")
    return
  }
  const templates = makeTemplates(logs)
  const options: PacedOptions = {
    host: values.host,
    port,
    count: Number(values.count),
    rate: Number(values.rate),
    deadline: now() + Number(values["max-seconds"]) * 1000
  }
  const report = transport === "tcp" ? await blastTcp(templates, options) : await blastUdp(templates, options)
  const { user, system } = process.cpuUsage()
  process.stdout.write(`${JSON.stringify({ ...report, cpuSeconds: (user + system) / 1e6 })}\n`)
}

if (import.meta.main) await main()
