/**
 * The emulated FortiGate: sends what a real FortiGate sends to a syslog server, FortiOS 7.x
 * logs in the "default" format (a PRI, then key=value) or RFC 5424, facility local7 by default,
 * over `udp`, `reliable` (TCP, octet counting) or `legacy-reliable` (TCP, LF), at a set rate.
 *
 * Logs are a realistic mix (mostly forward traffic, some local traffic, UTM and event logs)
 * unless the lab names the kinds it wants; the mix is seeded by the serial, so runs repeat.
 */
import { formatKeyValues } from "../../protocols/fortios/kv.ts"
import { type LogKind, makeFortiOsLog } from "../../protocols/fortios/logs.ts"
import { SEVERITIES } from "../../protocols/syslog/encode.ts"
import type { DeviceContext } from "../device.ts"
import { seededRandom } from "../shared/random.ts"
import { type MakeLog, SyslogSender, type SyslogSenderSettings } from "../shared/syslog-sender.ts"

export interface FortiGateSettings {
  readonly serial: string
  readonly hostname: string
  readonly vdom: string
  readonly syslog: SyslogSenderSettings
  readonly logs: ReadonlyArray<LogKind> | null
}

/** What a busy FortiGate's log stream is made of, roughly: weights of each log kind. */
const REALISTIC_MIX: ReadonlyArray<readonly [LogKind, number]> = [
  ["traffic-forward", 60],
  ["traffic-local", 10],
  ["utm-webfilter", 6],
  ["utm-app-ctrl", 6],
  ["utm-ips", 3],
  ["utm-virus", 1],
  ["event-system", 8],
  ["event-vpn", 3],
  ["event-user", 3]
]

const pickKind = (random: () => number, kinds: ReadonlyArray<LogKind> | null): LogKind => {
  if (kinds !== null && kinds.length > 0) return kinds[Math.floor(random() * kinds.length)] ?? "traffic-forward"
  const total = REALISTIC_MIX.reduce((sum, [, weight]) => sum + weight, 0)
  let roll = random() * total
  for (const [kind, weight] of REALISTIC_MIX) {
    roll -= weight
    if (roll < 0) return kind
  }
  return "traffic-forward"
}

/** The FortiOS log text for one sequence number. */
export const fortiGateLogMaker = (settings: Omit<FortiGateSettings, "syslog">): MakeLog => {
  const random = seededRandom(settings.serial)
  const device = { name: settings.hostname, serial: settings.serial, vdom: settings.vdom }
  return (seq, now) => {
    const fields = makeFortiOsLog({
      device,
      kind: pickKind(random, settings.logs),
      seq,
      epochNs: BigInt(now.getTime()) * 1_000_000n + BigInt(seq % 1_000_000),
      random
    })
    const level = fields.find(([key]) => key === "level")?.[1]
    return { message: formatKeyValues(fields), severity: SEVERITIES[String(level) as keyof typeof SEVERITIES] ?? 5 }
  }
}

export const createFortiGate = (id: string, settings: FortiGateSettings, context: DeviceContext): SyslogSender =>
  new SyslogSender({
    id,
    kind: "fortigate",
    hostname: settings.hostname,
    settings: settings.syslog,
    context,
    makeLog: fortiGateLogMaker(settings)
  })
