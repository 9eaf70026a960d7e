/**
 * A deterministic generator of realistic FortiOS 7.x log records, as ordered key/value pairs.
 *
 * Each record has the FortiOS header (`date time devname devid eventtime tz logid type subtype
 * [eventtype] level vd`) and then the fields of its kind, in the order FortiOS writes them,
 * modelled on Fortinet's published sample logs. Log IDs are the real ones (2-digit type,
 * 2-digit subtype, 6-digit message id). Addresses come only from private and documentation
 * ranges (10.0.0.0/8, 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24), host names from
 * `example.*`. All variety comes from the caller's `random`, so the same inputs give the same
 * record. Write a record with `formatKeyValues`; the sender appends its own sequence field.
 */
import type { SeverityName } from "../syslog/encode.ts"

export const LOG_KINDS = [
  "traffic-forward",
  "traffic-local",
  "event-system",
  "event-vpn",
  "event-user",
  "utm-webfilter",
  "utm-ips",
  "utm-virus",
  "utm-app-ctrl"
] as const

export type LogKind = (typeof LOG_KINDS)[number]

export type FortiOsField = readonly [string, string | number]

export interface LogKindInfo {
  readonly logid: string
  readonly type: "traffic" | "event" | "utm"
  readonly subtype: string
  /** FortiOS `eventtype=`, written between `subtype` and `level` (UTM logs only). */
  readonly eventtype: string | null
  readonly level: SeverityName
}

/** Header facts per kind; the log IDs are FortiOS' own. */
export const LOG_KIND_INFO: { readonly [kind in LogKind]: LogKindInfo } = {
  "traffic-forward": { logid: "0000000013", type: "traffic", subtype: "forward", eventtype: null, level: "notice" },
  "traffic-local": { logid: "0001000014", type: "traffic", subtype: "local", eventtype: null, level: "notice" },
  "event-system": { logid: "0100032001", type: "event", subtype: "system", eventtype: null, level: "information" },
  "event-vpn": { logid: "0101037127", type: "event", subtype: "vpn", eventtype: null, level: "notice" },
  "event-user": { logid: "0102043008", type: "event", subtype: "user", eventtype: null, level: "notice" },
  "utm-webfilter": { logid: "0316013056", type: "utm", subtype: "webfilter", eventtype: "ftgd_blk", level: "warning" },
  "utm-ips": { logid: "0419016384", type: "utm", subtype: "ips", eventtype: "signature", level: "alert" },
  "utm-virus": { logid: "0211008192", type: "utm", subtype: "virus", eventtype: "infected", level: "warning" },
  "utm-app-ctrl": { logid: "1059028704", type: "utm", subtype: "app-ctrl", eventtype: "signature", level: "information" }
}

export interface FortiOsLogInput {
  readonly device: { readonly name: string; readonly serial: string; readonly vdom?: string }
  readonly kind: LogKind
  readonly seq: number
  /** Event time in nanoseconds since the Unix epoch (FortiOS 7.x `eventtime`). */
  readonly epochNs: bigint
  /** FortiOS `tz`, `+hhmm` or `-hhmm`; anything else is taken as `+0000`. Defaults to `+0000`. */
  readonly tz?: string
  /** Uniform in [0, 1), e.g. a seeded PRNG: the only source of variety. */
  readonly random: () => number
}

/** The FortiGate's own addresses in the generated network. */
const FGT_LAN_IP = "10.0.1.1"
const FGT_WAN_IP = "192.0.2.1"
const VPN_PEER_IP = "203.0.113.2"

const LAN = { intf: "port2", role: "lan" } as const
const WAN = { intf: "wan1", role: "wan" } as const

const SERVICES = [
  { service: "HTTPS", proto: 6, port: 443 },
  { service: "HTTPS", proto: 6, port: 443 },
  { service: "HTTP", proto: 6, port: 80 },
  { service: "DNS", proto: 17, port: 53 },
  { service: "SSH", proto: 6, port: 22 },
  { service: "NTP", proto: 17, port: 123 }
] as const

const POLICIES = [
  { id: 1, name: "LAN-to-Internet" },
  { id: 2, name: "Servers-to-Internet" },
  { id: 3, name: "Guest-Internet" }
] as const

const LOCAL_SERVICES = [
  { service: "HTTPS", port: 443, app: "Web Management(HTTPS)" },
  { service: "SSH", port: 22, app: "SSH" },
  { service: "SNMP", port: 161, app: "SNMP" }
] as const

const USERS = ["alice", "bob", "carol", "dave"] as const

const BLOCKED_CATEGORIES = [
  { cat: 26, catdesc: "Malicious Websites" },
  { cat: 61, catdesc: "Phishing" },
  { cat: 59, catdesc: "Proxy Avoidance" },
  { cat: 98, catdesc: "Crypto Mining" }
] as const

const APPS = [
  { appid: 40568, app: "HTTPS.BROWSER", appcat: "Web.Client", apprisk: "medium", service: "HTTPS" },
  { appid: 15895, app: "SSL", appcat: "Network.Service", apprisk: "elevated", service: "SSL" },
  { appid: 15832, app: "Facebook", appcat: "Social.Media", apprisk: "medium", service: "HTTPS" }
] as const

/** The few draws the generator needs, from the caller's random source and sequence number. */
class Draw {
  readonly #random: () => number
  readonly #seq: number
  constructor(random: () => number, seq: number) {
    this.#random = random
    this.#seq = seq
  }
  /** FortiOS session ids grow as sessions are created: follow the log sequence. */
  sessionId(): number {
    return 100_000 + (this.#seq % 4_000_000_000)
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.#random() * (max - min + 1))
  }
  pick<const Items extends readonly [unknown, ...unknown[]]>(items: Items): Items[number] {
    return items[Math.floor(this.#random() * items.length)] ?? items[0]
  }
  chance(p: number): boolean {
    return this.#random() < p
  }
  lanIp(): string {
    return `10.0.${this.int(1, 20)}.${this.int(2, 254)}`
  }
  internetIp(): string {
    return `${this.chance(0.5) ? "198.51.100" : "203.0.113"}.${this.int(1, 254)}`
  }
  ephemeralPort(): number {
    return this.int(1024, 65535)
  }
  hex(digits: number): string {
    let out = ""
    for (let i = 0; i < digits; i++) out += this.int(0, 15).toString(16)
    return out
  }
}

/** A stable FortiOS-style policy UUID per device and policy id. */
function policyUuid(serial: string, policyId: number): string {
  let h = 0x811c9dc5
  for (let i = 0; i < serial.length; i++) h = Math.imul(h ^ serial.charCodeAt(i), 0x01000193)
  const word = (salt: number): string =>
    (Math.imul(h ^ (Math.imul(policyId, 0x9e3779b1) + salt), 0x85ebca6b) >>> 0).toString(16).padStart(8, "0")
  const a = word(1)
  const b = word(2)
  const c = word(3)
  return `${a}-${b.slice(0, 4)}-51ef-${b.slice(4, 8)}-${c}${a.slice(0, 4)}`
}

const two = (n: number): string => (n < 10 ? `0${n}` : `${n}`)

/** Offset in minutes of a `+hhmm` / `-hhmm` zone, or null when it is not one. */
function tzOffsetMinutes(tz: string): number | null {
  if (tz.length !== 5 || (tz[0] !== "+" && tz[0] !== "-")) return null
  const hours = Number(tz.slice(1, 3))
  const minutes = Number(tz.slice(3))
  if (!Number.isInteger(hours) || !Number.isInteger(minutes) || hours > 14 || minutes > 59) return null
  return (tz[0] === "-" ? -1 : 1) * (hours * 60 + minutes)
}

export function makeFortiOsLog(input: FortiOsLogInput): ReadonlyArray<FortiOsField> {
  const info = LOG_KIND_INFO[input.kind]
  const offset = tzOffsetMinutes(input.tz ?? "+0000")
  const tz = offset === null ? "+0000" : (input.tz ?? "+0000")
  const local = new Date(Number(input.epochNs / 1_000_000n) + (offset ?? 0) * 60_000)
  const fields: FortiOsField[] = [
    ["date", `${local.getUTCFullYear()}-${two(local.getUTCMonth() + 1)}-${two(local.getUTCDate())}`],
    ["time", `${two(local.getUTCHours())}:${two(local.getUTCMinutes())}:${two(local.getUTCSeconds())}`],
    ["devname", input.device.name],
    ["devid", input.device.serial],
    ["eventtime", input.epochNs.toString()],
    ["tz", tz],
    ["logid", info.logid],
    ["type", info.type],
    ["subtype", info.subtype]
  ]
  if (info.eventtype !== null) fields.push(["eventtype", info.eventtype])
  fields.push(["level", info.level], ["vd", input.device.vdom ?? "root"])
  const draw = new Draw(input.random, input.seq)
  const epochSeconds = Number(input.epochNs / 1_000_000_000n)
  switch (input.kind) {
    case "traffic-forward":
      trafficForward(fields, draw, input.device.serial)
      break
    case "traffic-local":
      trafficLocal(fields, draw)
      break
    case "event-system":
      eventSystem(fields, draw, epochSeconds)
      break
    case "event-vpn":
      eventVpn(fields, draw)
      break
    case "event-user":
      eventUser(fields, draw)
      break
    case "utm-webfilter":
      utmWebfilter(fields, draw)
      break
    case "utm-ips":
      utmIps(fields, draw)
      break
    case "utm-virus":
      utmVirus(fields, draw)
      break
    case "utm-app-ctrl":
      utmAppCtrl(fields, draw, input.device.serial)
      break
  }
  return fields
}

function trafficForward(fields: FortiOsField[], draw: Draw, serial: string): void {
  const svc = draw.pick(SERVICES)
  const policy = draw.pick(POLICIES)
  const denied = draw.chance(0.1)
  const srcport = draw.ephemeralPort()
  fields.push(
    ["srcip", draw.lanIp()],
    ["srcport", srcport],
    ["srcintf", LAN.intf],
    ["srcintfrole", LAN.role],
    ["dstip", draw.internetIp()],
    ["dstport", svc.port],
    ["dstintf", WAN.intf],
    ["dstintfrole", WAN.role],
    ["srccountry", "Reserved"],
    ["dstcountry", "Reserved"],
    ["sessionid", draw.sessionId()],
    ["proto", svc.proto]
  )
  if (denied) {
    fields.push(
      ["action", "deny"],
      ["policyid", 0],
      ["policytype", "policy"],
      ["service", svc.service],
      ["trandisp", "noop"],
      ["duration", 0],
      ["sentbyte", 0],
      ["rcvdbyte", 0],
      ["sentpkt", 0],
      ["rcvdpkt", 0],
      ["appcat", "unscanned"],
      ["crscore", 30],
      ["craction", 131072],
      ["crlevel", "high"]
    )
    return
  }
  const sentpkt = draw.int(1, 400)
  const rcvdpkt = draw.int(1, 600)
  fields.push(
    ["action", draw.pick(["close", "close", "close", "accept", "timeout"])],
    ["policyid", policy.id],
    ["policytype", "policy"],
    ["poluuid", policyUuid(serial, policy.id)],
    ["policyname", policy.name],
    ["service", svc.service],
    ["trandisp", "snat"],
    ["transip", FGT_WAN_IP],
    ["transport", draw.ephemeralPort()],
    ["appcat", "unscanned"],
    ["duration", draw.int(1, 600)],
    ["sentbyte", sentpkt * draw.int(40, 1400)],
    ["rcvdbyte", rcvdpkt * draw.int(40, 1400)],
    ["sentpkt", sentpkt],
    ["rcvdpkt", rcvdpkt]
  )
}

function trafficLocal(fields: FortiOsField[], draw: Draw): void {
  const svc = draw.pick(LOCAL_SERVICES)
  const denied = draw.chance(0.7)
  const sentpkt = denied ? 0 : draw.int(1, 40)
  const rcvdpkt = denied ? 0 : draw.int(1, 40)
  fields.push(
    ["srcip", draw.internetIp()],
    ["srcport", draw.ephemeralPort()],
    ["srcintf", WAN.intf],
    ["srcintfrole", WAN.role],
    ["dstip", FGT_WAN_IP],
    ["dstport", svc.port],
    ["dstintf", "root"],
    ["dstintfrole", "undefined"],
    ["srccountry", "Reserved"],
    ["dstcountry", "Reserved"],
    ["sessionid", draw.sessionId()],
    ["proto", svc.port === 161 ? 17 : 6],
    ["action", denied ? "deny" : "server-rst"],
    ["policyid", 0],
    ["policytype", "local-in-policy"],
    ["service", svc.service],
    ["trandisp", "noop"],
    ["app", svc.app],
    ["duration", denied ? 0 : draw.int(1, 30)],
    ["sentbyte", sentpkt * draw.int(40, 200)],
    ["rcvdbyte", rcvdpkt * draw.int(40, 1400)],
    ["sentpkt", sentpkt],
    ["rcvdpkt", rcvdpkt],
    ["appcat", "unscanned"]
  )
}

function eventSystem(fields: FortiOsField[], draw: Draw, epochSeconds: number): void {
  const admin = `10.0.1.${draw.int(2, 254)}`
  const ui = `https(${admin})`
  fields.push(
    ["logdesc", "Admin login successful"],
    ["sn", String(epochSeconds)],
    ["user", "admin"],
    ["ui", ui],
    ["method", "https"],
    ["srcip", admin],
    ["dstip", FGT_LAN_IP],
    ["action", "login"],
    ["status", "success"],
    ["reason", "none"],
    ["profile", "super_admin"],
    ["msg", `Administrator admin logged in successfully from ${ui}`]
  )
}

function eventVpn(fields: FortiOsField[], draw: Draw): void {
  fields.push(
    ["logdesc", "Progress IPsec phase 1"],
    ["msg", "progress IPsec phase 1"],
    ["action", "negotiate"],
    ["remip", VPN_PEER_IP],
    ["locip", FGT_WAN_IP],
    ["remport", 500],
    ["locport", 500],
    ["outintf", WAN.intf],
    ["cookies", `${draw.hex(16)}/${draw.chance(0.5) ? "0000000000000000" : draw.hex(16)}`],
    ["user", "N/A"],
    ["group", "N/A"],
    ["useralt", "N/A"],
    ["xauthuser", "N/A"],
    ["xauthgroup", "N/A"],
    ["assignip", "N/A"],
    ["vpntunnel", "to-branch-1"],
    ["status", "success"],
    ["init", "local"],
    ["mode", "main"],
    ["dir", "outbound"],
    ["stage", 1],
    ["role", "initiator"],
    ["result", "OK"]
  )
}

function eventUser(fields: FortiOsField[], draw: Draw): void {
  const user = draw.pick(USERS)
  const srcip = draw.lanIp()
  fields.push(
    ["logdesc", "Authentication success"],
    ["srcip", srcip],
    ["dstip", draw.internetIp()],
    ["policyid", 1],
    ["interface", LAN.intf],
    ["user", user],
    ["group", "staff"],
    ["authproto", `HTTPS(${srcip})`],
    ["action", "authentication"],
    ["status", "success"],
    ["reason", "N/A"],
    ["msg", `User ${user} succeeded in authentication`]
  )
}

function utmWebfilter(fields: FortiOsField[], draw: Draw): void {
  const category = draw.pick(BLOCKED_CATEGORIES)
  const hostname = `${draw.pick(["cdn", "www", "login", "files"])}${draw.int(1, 99)}.example.net`
  fields.push(
    ["policyid", 1],
    ["sessionid", draw.sessionId()],
    ["srcip", draw.lanIp()],
    ["srcport", draw.ephemeralPort()],
    ["srccountry", "Reserved"],
    ["srcintf", LAN.intf],
    ["srcintfrole", LAN.role],
    ["dstip", draw.internetIp()],
    ["dstport", 443],
    ["dstcountry", "Reserved"],
    ["dstintf", WAN.intf],
    ["dstintfrole", WAN.role],
    ["proto", 6],
    ["service", "HTTPS"],
    ["hostname", hostname],
    ["profile", "default"],
    ["action", "blocked"],
    ["reqtype", "direct"],
    ["url", `https://${hostname}/`],
    ["sentbyte", draw.int(300, 2000)],
    ["rcvdbyte", 0],
    ["direction", "outgoing"],
    ["msg", "URL belongs to a denied category in policy"],
    ["method", "domain"],
    ["cat", category.cat],
    ["catdesc", category.catdesc],
    ["crscore", 30],
    ["craction", 4194304],
    ["crlevel", "high"]
  )
}

/** The signature of Fortinet's published IPS sample log (a real FortiGuard entry). */
const IPS_ATTACK = { name: "Adobe.Flash.newfunction.Handling.Code.Execution", id: 23305 } as const

function utmIps(fields: FortiOsField[], draw: Draw): void {
  const server = `10.0.50.${draw.int(2, 254)}`
  fields.push(
    ["severity", "critical"],
    ["srcip", draw.internetIp()],
    ["srccountry", "Reserved"],
    ["dstip", server],
    ["dstcountry", "Reserved"],
    ["srcintf", WAN.intf],
    ["srcintfrole", WAN.role],
    ["dstintf", "dmz"],
    ["dstintfrole", "dmz"],
    ["sessionid", draw.sessionId()],
    ["action", "dropped"],
    ["proto", 6],
    ["service", "HTTP"],
    ["policyid", 2],
    ["attack", IPS_ATTACK.name],
    ["srcport", draw.ephemeralPort()],
    ["dstport", 80],
    ["hostname", server],
    ["url", "/ips/sig1.pdf"],
    ["direction", "incoming"],
    ["attackid", IPS_ATTACK.id],
    ["profile", "default"],
    ["ref", `http://www.fortinet.com/ids/VID${IPS_ATTACK.id}`],
    ["incidentserialno", draw.int(100_000_000, 2_000_000_000)],
    ["msg", `applications3: ${IPS_ATTACK.name},`],
    ["crscore", 50],
    ["craction", 4096],
    ["crlevel", "critical"]
  )
}

/** SHA-256 of the EICAR test file. */
const EICAR_SHA256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"

function utmVirus(fields: FortiOsField[], draw: Draw): void {
  const dstip = draw.internetIp()
  fields.push(
    ["msg", "File is infected."],
    ["action", "blocked"],
    ["service", "HTTP"],
    ["sessionid", draw.sessionId()],
    ["srcip", draw.lanIp()],
    ["dstip", dstip],
    ["srcport", draw.ephemeralPort()],
    ["dstport", 80],
    ["srcintf", LAN.intf],
    ["srcintfrole", LAN.role],
    ["dstintf", WAN.intf],
    ["dstintfrole", WAN.role],
    ["policyid", 1],
    ["proto", 6],
    ["direction", "incoming"],
    ["filename", "eicar.com"],
    ["quarskip", "File-was-not-quarantined"],
    ["virus", "EICAR_TEST_FILE"],
    ["dtype", "av-engine"],
    ["ref", "http://www.fortinet.com/ve?vn=EICAR_TEST_FILE"],
    ["virusid", 2172],
    ["url", `http://${dstip}/eicar.com`],
    ["profile", "default"],
    ["agent", draw.pick(["curl/8.5.0", "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"])],
    ["analyticscksum", EICAR_SHA256],
    ["analyticssubmit", "false"],
    ["crscore", 50],
    ["craction", 2],
    ["crlevel", "critical"]
  )
}

function utmAppCtrl(fields: FortiOsField[], draw: Draw, serial: string): void {
  const app = draw.pick(APPS)
  fields.push(
    ["appid", app.appid],
    ["srcip", draw.lanIp()],
    ["srccountry", "Reserved"],
    ["dstip", draw.internetIp()],
    ["dstcountry", "Reserved"],
    ["srcport", draw.ephemeralPort()],
    ["dstport", 443],
    ["srcintf", LAN.intf],
    ["srcintfrole", LAN.role],
    ["dstintf", WAN.intf],
    ["dstintfrole", WAN.role],
    ["proto", 6],
    ["service", app.service],
    ["direction", "outgoing"],
    ["policyid", 1],
    ["poluuid", policyUuid(serial, 1)],
    ["policytype", "policy"],
    ["sessionid", draw.sessionId()],
    ["applist", "default"],
    ["action", "pass"],
    ["appcat", app.appcat],
    ["app", app.app],
    ["hostname", `www${draw.int(1, 99)}.example.com`],
    ["incidentserialno", draw.int(100_000_000, 2_000_000_000)],
    ["url", "/"],
    ["msg", `${app.appcat}: ${app.app},`],
    ["apprisk", app.apprisk]
  )
}
