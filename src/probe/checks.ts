/**
 * The probe's checks, run from the process they run in (DESIGN-12, contract 3): each dials one
 * address and port and says whether the flow works at the application level, not only whether a
 * TCP handshake completes. The registry `ROW_CHECKS` is keyed by catalog row id; a row it does
 * not list gets the generic check of its transport (TCP connect, TLS handshake), so a row added
 * to the catalog joins the matrix without a change here.
 *
 * Syslog is the one check that cannot conclude on its own: it sends a message carrying a unique
 * token and answers `sent`; whoever can read the analyzer's store (the matrix, over the control
 * channel) confirms it by the token.
 *
 * Against a real host (`--target` without `--fazlab-peer`) a check that needs fazlab's emulated
 * peer on the far side is reduced (`reduceForRealHost`) to what a real host still proves.
 */
import * as crypto from "node:crypto"
import * as dgram from "node:dgram"
import * as http from "node:http"
import * as https from "node:https"
import * as net from "node:net"
import * as tls from "node:tls"
import * as dnsPacket from "dns-packet"
import ssh2 from "ssh2"
import { encodeFgfm, FGFM_DEFAULT_MAX_MESSAGE_BYTES, FgfmDecoder } from "../protocols/fgfm/frames.ts"
import { encodeFrame as encodeHaFrame, HaDecoder } from "../protocols/ha/frames.ts"
import { decodeNtp, encodeNtp, NTP_PACKET_BYTES } from "../protocols/ntp/packet.ts"
import { encodeFrame as encodeOftpFrame, OFTP_DEFAULT_MAX_FRAME_BYTES, OftpDecoder } from "../protocols/oftp/frames.ts"
import { encodeSyslog } from "../protocols/syslog/encode.ts"
import { encodeOctetCounted } from "../protocols/syslog/framing.ts"
import type { Flow } from "./flows.ts"

export type CheckName = "syslog" | "oftp" | "fgfm" | "fgfm-discover" | "ha" | "https" | "http" | "ssh" | "ftp" | "smtp" | "dns" | "ntp" | "tls" | "tcp"

/** What one check of one address found. `sent`: a syslog message left; the analyzer has yet to confirm it. */
export interface Attempt {
  readonly outcome: "reachable" | "unreachable" | "sent"
  readonly detail: string
  /** The unique token of a syslog probe message. */
  readonly token?: string
}

export interface CheckTarget {
  readonly host: string
  readonly port: number
  readonly timeoutMs: number
}

const byPort = (ports: Readonly<Record<number, CheckName>>, otherwise: CheckName | null) => (flow: Pick<Flow, "port">): CheckName | null =>
  ports[flow.port] ?? otherwise

/** The check of each row (catalog or `LAB_ROWS`) fazlab knows how to check at the application level. */
export const ROW_CHECKS: Readonly<Record<string, CheckName | ((flow: Pick<Flow, "port">) => CheckName | null)>> = {
  "in-fortianalyzer-ha": "ha",
  "out-fortianalyzer-ha": "ha",
  "in-fortiai-logging": "syslog",
  "in-fortiauthenticator-logging": "syslog",
  "in-fortiap-s-logging": "syslog",
  "in-fortimail-syslog": "syslog",
  "in-forticlient-logs": "syslog",
  "in-forticlient-syslog": "syslog",
  "in-fortimanager-syslog": "syslog",
  "in-forticlient-chromebook-logs": "https",
  "in-forticlient-fabric-member": "https",
  "in-fortiportal-api": byPort({ 8080: "http" }, "https"),
  "in-fortigate-oftp": "oftp",
  "in-fortimanager-oftp": "oftp",
  "in-fortimanager-management": "fgfm-discover",
  "lab-fortigate-fgfm": "fgfm",
  "in-management-ssh": "ssh",
  "in-management-web-admin": byPort({ 80: "http" }, "https"),
  "in-management-rest-xml-api": "https",
  "in-management-log-aggregation": "tls",
  "in-fortirecorder-logging-management": byPort({ 21: "ftp", 80: "http", 443: "https", 3011: "http" }, null),
  "out-fortiguard-services": "https",
  "out-fortinet-registry-mea-download": "https",
  "out-non-fortinet-log-report": byPort({ 21: "ftp", 22: "ssh" }, "tcp"),
  "out-non-fortinet-config-backups": "ssh",
  "out-non-fortinet-alert-email": "smtp",
  "out-non-fortinet-dns": "dns",
  "out-non-fortinet-ntp": "ntp"
}

/** The check of a flow: its first row's registered check, else its transport's generic one (none for UDP). */
export const checkOf = (flow: Pick<Flow, "rows" | "transport" | "port">): CheckName | null => {
  for (const row of flow.rows) {
    const check = ROW_CHECKS[row.id]
    const named = check === undefined || typeof check === "string" ? check : check(flow)
    // A port the row's check does not name (null) gets its transport's generic check.
    if (named !== undefined && named !== null) return named
    if (named === null) break
  }
  return flow.transport === "https" ? "https" : flow.transport === "tls" ? "tls" : flow.transport === "tcp" ? "tcp" : null
}

/**
 * What is left of a check against a real host, where no fazlab device answers: the check, or why
 * nothing can be checked. `partial` names what the reduced check leaves out.
 */
export const reduceForRealHost = (check: CheckName, flow: Pick<Flow, "transport">): { readonly check: CheckName; readonly partial: string | null } | { readonly reason: string } => {
  switch (check) {
    case "syslog":
      return flow.transport === "udp"
        ? { reason: "UDP syslog counts only when the analyzer confirms it stored the probe message, and a real host does not tell; probe a fazlab lab instead" }
        : { check: "tcp", partial: "TCP connect only: whether the host stored the message needs fazlab's analyzer on the far side" }
    case "oftp":
      return { check: "tls", partial: "TLS handshake only: the OFTP hello needs fazlab's analyzer on the far side" }
    case "fgfm":
    case "fgfm-discover":
      return { check: "tls", partial: "TLS handshake only: the FGFM registration needs a fazlab device on the far side" }
    case "ha":
      return { check: "tcp", partial: "TCP connect only: the HA JOIN needs fazlab's analyzer on the far side" }
    default:
      return { check, partial: null }
  }
}

const reachable = (detail: string): Attempt => ({ outcome: "reachable", detail })
const unreachable = (detail: string): Attempt => ({ outcome: "unreachable", detail })

const why = (error: unknown): string => {
  const e = error as NodeJS.ErrnoException
  return e.code ?? e.message
}

/**
 * Runs `start` until it settles or `timeoutMs` passes (then: no answer). `start` gets `settle`
 * and returns what closes its sockets; it is called once whichever way the attempt ends.
 */
const attempt = (target: CheckTarget, what: string, start: (settle: (result: Attempt) => void) => () => void): Promise<Attempt> =>
  new Promise((resolve) => {
    let done = false
    let cleanup: () => void = () => undefined
    const settle = (result: Attempt) => {
      if (done) return
      done = true
      clearTimeout(timer)
      cleanup()
      resolve(result)
    }
    const timer = setTimeout(() => settle(unreachable(`no answer to ${what} from ${target.host}:${target.port} within ${target.timeoutMs} ms`)), target.timeoutMs)
    cleanup = start(settle)
    if (done) cleanup()
  })

const where = (target: CheckTarget): string => `${target.host}:${target.port}`

const tcpConnect = (target: CheckTarget): Promise<Attempt> =>
  attempt(target, "a TCP connect", (settle) => {
    const socket = net.connect({ host: target.host, port: target.port })
    socket.on("connect", () => settle(reachable(`TCP connect to ${where(target)} completed`)))
    socket.on("error", (error) => settle(unreachable(`TCP connect to ${where(target)} failed (${why(error)})`)))
    return () => socket.destroy()
  })

const tlsHandshake = (target: CheckTarget): Promise<Attempt> =>
  attempt(target, "a TLS handshake", (settle) => {
    const socket = tls.connect({ host: target.host, port: target.port, rejectUnauthorized: false })
    socket.on("secureConnect", () => settle(reachable(`TLS handshake with ${where(target)} completed (${socket.getProtocol() ?? "TLS"})`)))
    socket.on("error", (error) => settle(unreachable(`TLS handshake with ${where(target)} failed (${why(error)})`)))
    return () => socket.destroy()
  })

const httpAnswer = (target: CheckTarget, secure: boolean): Promise<Attempt> =>
  attempt(target, secure ? "an HTTPS request" : "an HTTP request", (settle) => {
    const name = secure ? "HTTPS" : "HTTP"
    const options = { host: target.host, port: target.port, path: "/", agent: false as const, headers: { "user-agent": "fazlab-probe" } }
    const request = secure
      ? https.get({ ...options, rejectUnauthorized: false })
      : http.get(options)
    request.on("response", (response) => {
      response.resume()
      settle(reachable(`${name} GET / on ${where(target)} answered ${response.statusCode ?? "?"}`))
    })
    request.on("error", (error) => settle(unreachable(`${name} GET / on ${where(target)} failed (${why(error)})`)))
    return () => request.destroy()
  })

const sshHandshake = (target: CheckTarget): Promise<Attempt> =>
  attempt(target, "an SSH handshake", (settle) => {
    const client = new ssh2.Client()
    client.on("handshake", (negotiated) =>
      settle(reachable(`SSH banner and key exchange with ${where(target)} completed (${negotiated.kex}, host key ${negotiated.serverHostKey})`))
    )
    client.on("error", (error) => settle(unreachable(`SSH to ${where(target)} failed before the key exchange completed (${why(error)})`)))
    client.connect({ host: target.host, port: target.port, username: "fazlab-probe", readyTimeout: target.timeoutMs, tryKeyboard: false })
    return () => client.end()
  })

const ftpGreeting = (target: CheckTarget): Promise<Attempt> =>
  attempt(target, "an FTP greeting", (settle) => {
    const socket = net.connect({ host: target.host, port: target.port })
    let buffer = ""
    socket.setEncoding("latin1")
    socket.on("data", (chunk: string) => {
      buffer += chunk
      const line = buffer.split("\r\n").find((l) => /^\d{3} /u.test(l))
      if (line === undefined) return
      if (line.startsWith("220 ")) {
        socket.end("QUIT\r\n")
        settle(reachable(`FTP on ${where(target)} greeted: ${line.slice(0, 80)}`))
      } else settle(unreachable(`FTP on ${where(target)} answered "${line.slice(0, 80)}"`))
    })
    socket.on("error", (error) => settle(unreachable(`FTP to ${where(target)} failed (${why(error)})`)))
    return () => socket.destroy()
  })

const smtpGreeting = (target: CheckTarget): Promise<Attempt> =>
  attempt(target, "an SMTP greeting and EHLO", (settle) => {
    const socket = net.connect({ host: target.host, port: target.port })
    let buffer = ""
    let greeted = false
    socket.setEncoding("latin1")
    socket.on("data", (chunk: string) => {
      buffer += chunk
      const lines = buffer.split("\r\n")
      buffer = lines.pop() ?? ""
      for (const line of lines) {
        if (/^\d{3}-/u.test(line)) continue
        const code = line.slice(0, 3)
        if (!greeted && code === "220") {
          greeted = true
          socket.write("EHLO fazlab-probe\r\n")
        } else if (greeted && code === "250") {
          socket.end("QUIT\r\n")
          settle(reachable(`SMTP on ${where(target)} greeted and answered EHLO`))
        } else settle(unreachable(`SMTP on ${where(target)} answered "${line.slice(0, 80)}"`))
      }
    })
    socket.on("error", (error) => settle(unreachable(`SMTP to ${where(target)} failed (${why(error)})`)))
    return () => socket.destroy()
  })

/** A name every DNS server answers in some way; fazlab's dns-server knows it (the vendor's FQDN table). */
const DNS_QUESTION = "fds1.fortinet.com"

const dnsAnswer = (target: CheckTarget, transport: "udp" | "tcp"): Promise<Attempt> =>
  attempt(target, `a DNS query over ${transport.toUpperCase()}`, (settle) => {
    const id = crypto.randomInt(1, 65535)
    const query: dnsPacket.Packet = { type: "query", id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: "A", name: DNS_QUESTION }] }
    const answered = (packet: dnsPacket.Packet) => {
      if (packet.id === id && packet.type === "response") {
        settle(reachable(`DNS on ${where(target)} over ${transport.toUpperCase()} answered ${DNS_QUESTION} (${packet.answers?.length ?? 0} answers)`))
      }
    }
    if (transport === "udp") {
      const socket = dgram.createSocket(net.isIPv6(target.host) ? "udp6" : "udp4")
      socket.on("message", (message) => {
        try {
          answered(dnsPacket.decode(message))
        } catch {
          // Not a DNS answer: keep waiting for one.
        }
      })
      socket.on("error", (error) => settle(unreachable(`DNS over UDP to ${where(target)} failed (${why(error)})`)))
      socket.send(dnsPacket.encode(query), target.port, target.host)
      return () => socket.close()
    }
    const socket = net.connect({ host: target.host, port: target.port })
    let received = Buffer.alloc(0)
    socket.on("connect", () => socket.write(dnsPacket.streamEncode(query)))
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk])
      if (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) answered(dnsPacket.streamDecode(received))
    })
    socket.on("error", (error) => settle(unreachable(`DNS over TCP to ${where(target)} failed (${why(error)})`)))
    return () => socket.destroy()
  })

const ntpAnswer = (target: CheckTarget): Promise<Attempt> =>
  attempt(target, "an NTP request", (settle) => {
    const socket = dgram.createSocket(net.isIPv6(target.host) ? "udp6" : "udp4")
    const sent = Date.now()
    socket.on("message", (message) => {
      if (message.length < NTP_PACKET_BYTES) return
      const packet = decodeNtp(message)
      if (typeof packet === "string" || packet.mode !== 4) return
      settle(reachable(`NTP on ${where(target)} answered (stratum ${packet.stratum})`))
    })
    socket.on("error", (error) => settle(unreachable(`NTP to ${where(target)} failed (${why(error)})`)))
    socket.send(
      encodeNtp({ leap: 0, version: 4, mode: 3, stratum: 0, poll: 6, precision: -20, referenceId: "", reference: 0, origin: 0, receive: 0, transmit: sent }),
      target.port,
      target.host
    )
    return () => socket.close()
  })

/**
 * The serial the probe says hello (or registers) with for a flow: the analyzer (or FortiManager)
 * lists it as an unauthorized device. One per flow (probes of two flows run at once, and an analyzer takes one session per
 * serial), the same on every run (so runs do not fill the registry).
 */
export const probeSerial = (flowId: string): string =>
  `FGVMPROBE${crypto.createHash("sha256").update(flowId).digest("hex").slice(0, 7).toUpperCase()}`

const oftpHello = (target: CheckTarget, serial: string): Promise<Attempt> =>
  attempt(target, "an OFTP hello", (settle) => {
    const socket = tls.connect({ host: target.host, port: target.port, rejectUnauthorized: false })
    const decoder = new OftpDecoder({ maxFrameBytes: OFTP_DEFAULT_MAX_FRAME_BYTES })
    socket.on("secureConnect", () =>
      socket.write(encodeOftpFrame({
        type: "hello",
        hello: { serial, hostname: "fazlab-probe", platform: "fazlab-probe", version: "7.4.4", vdoms: ["root"], uploadOption: "realtime", keepaliveMs: 30_000 }
      }))
    )
    socket.on("data", (chunk: Buffer) => {
      const { frames, error } = decoder.push(chunk)
      if (error !== undefined) return settle(unreachable(`OFTP on ${where(target)} answered bytes that are not OFTP (${error.code})`))
      for (const frame of frames) {
        if (frame.type === "hello-reply") {
          socket.end(encodeOftpFrame({ type: "close", reason: "fazlab probe done" }))
          return settle(reachable(`TLS and the OFTP hello with ${where(target)} completed (${frame.reply.status})`))
        }
        if (frame.type === "error") return settle(unreachable(`OFTP on ${where(target)} refused the hello: ${frame.code}: ${frame.reason}`))
      }
    })
    socket.on("error", (error) => settle(unreachable(`OFTP over TLS to ${where(target)} failed (${why(error)})`)))
    return () => socket.destroy()
  })

const fgfmRegister = (target: CheckTarget, serial: string): Promise<Attempt> =>
  attempt(target, "an FGFM registration", (settle) => {
    const socket = tls.connect({ host: target.host, port: target.port, rejectUnauthorized: false })
    const decoder = new FgfmDecoder({ maxMessageBytes: FGFM_DEFAULT_MAX_MESSAGE_BYTES })
    socket.on("secureConnect", () =>
      socket.write(encodeFgfm({ type: "register", serialno: serial, hostname: "fazlab-probe", platform: "fazlab-probe", version: "7.4.4", keepaliveInterval: 120, sockTimeout: 360 }))
    )
    socket.on("data", (chunk: Buffer) => {
      const { messages, error } = decoder.push(chunk)
      if (error !== undefined) return settle(unreachable(`FGFM on ${where(target)} answered bytes that are not FGFM (${error.code})`))
      for (const message of messages) {
        if (message.type === "register-reply") {
          socket.end(encodeFgfm({ type: "close", reason: "fazlab probe done" }))
          return settle(reachable(`TLS and the FGFM registration with ${where(target)} completed (${message.status})`))
        }
        if (message.type === "error") return settle(unreachable(`FGFM on ${where(target)} refused the registration: ${message.code}: ${message.reason}`))
      }
    })
    socket.on("error", (error) => settle(unreachable(`FGFM over TLS to ${where(target)} failed (${why(error)})`)))
    return () => socket.destroy()
  })

/**
 * A FortiManager's side of FGFM to a FortiAnalyzer: `request=discover`, then the analyzer
 * registers. An analyzer that a FortiManager of the lab already manages answers
 * `duplicate-session`: an FGFM answer too, so the flow works.
 */
const fgfmDiscover = (target: CheckTarget, serial: string): Promise<Attempt> =>
  attempt(target, "an FGFM discover", (settle) => {
    const socket = tls.connect({ host: target.host, port: target.port, rejectUnauthorized: false })
    const decoder = new FgfmDecoder({ maxMessageBytes: FGFM_DEFAULT_MAX_MESSAGE_BYTES })
    socket.on("secureConnect", () => socket.write(encodeFgfm({ type: "discover", fmgSerialno: serial })))
    socket.on("data", (chunk: Buffer) => {
      const { messages, error } = decoder.push(chunk)
      if (error !== undefined) return settle(unreachable(`FGFM on ${where(target)} answered bytes that are not FGFM (${error.code})`))
      for (const message of messages) {
        if (message.type === "register") {
          socket.end(encodeFgfm({ type: "close", reason: "fazlab probe done" }))
          return settle(reachable(`TLS, request=discover and the FGFM registration of ${message.serialno} on ${where(target)} completed`))
        }
        if (message.type === "error") {
          return settle(
            message.code === "duplicate-session"
              ? reachable(`FGFM on ${where(target)} answered request=discover with duplicate-session: a FortiManager of the lab manages it already`)
              : unreachable(`FGFM on ${where(target)} refused request=discover: ${message.code}: ${message.reason}`)
          )
        }
      }
    })
    socket.on("error", (error) => settle(unreachable(`FGFM over TLS to ${where(target)} failed (${why(error)})`)))
    return () => socket.destroy()
  })

const haJoin = (target: CheckTarget): Promise<Attempt> =>
  attempt(target, "an HA JOIN", (settle) => {
    const socket = net.connect({ host: target.host, port: target.port })
    const decoder = new HaDecoder()
    socket.on("connect", () =>
      // A member no group lists: the acting primary answers with ERROR and nothing changes.
      socket.write(encodeHaFrame({ type: "join", body: { serial: "FAZ-VMPROBE00001", groupId: 255, priority: 80, preferredRole: "secondary", lastSyncId: 0 } }))
    )
    socket.on("data", (chunk: Buffer) => {
      const { frames, error } = decoder.push(chunk)
      if (error !== undefined) return settle(unreachable(`TCP/5199 on ${where(target)} answered bytes that are not fazlab HA (${error.code})`))
      const frame = frames[0]
      if (frame === undefined) return
      settle(reachable(`the HA listener on ${where(target)} answered a probe JOIN (${frame.type === "error" ? `ERROR ${frame.body.code}` : frame.type.toUpperCase()})`))
    })
    socket.on("error", (error) => settle(unreachable(`HA connect to ${where(target)} failed (${why(error)})`)))
    return () => socket.destroy()
  })

/** A token no log of the lab carries by chance. */
export const newToken = (): string => `fazlabprobe${crypto.randomBytes(8).toString("hex")}`

/** The probe's syslog message: FortiOS key=value with the token, so `logs --text TOKEN` finds it. */
export const syslogProbeMessage = (flowId: string, token: string): Buffer =>
  encodeSyslog({
    format: "rfc3164",
    facility: 16,
    severity: 6,
    hostname: "fazlab-probe",
    appName: "fazlab-probe",
    timestamp: new Date(),
    message: `devname="fazlab-probe" type="event" subtype="system" level="information" probe="${token}" msg="fazlab probe of ${flowId}"`
  })

const syslogSend = (target: CheckTarget, transport: "udp" | "tcp", flowId: string): Promise<Attempt> => {
  const token = newToken()
  const message = syslogProbeMessage(flowId, token)
  const sent: Attempt = { outcome: "sent", detail: `syslog over ${transport.toUpperCase()} sent to ${where(target)} with token ${token}`, token }
  return attempt(target, `syslog over ${transport.toUpperCase()}`, (settle) => {
    if (transport === "udp") {
      const socket = dgram.createSocket(net.isIPv6(target.host) ? "udp6" : "udp4")
      socket.send(message, target.port, target.host, (error) => settle(error === null ? sent : unreachable(`syslog over UDP to ${where(target)} failed (${why(error)})`)))
      return () => socket.close()
    }
    const socket = net.connect({ host: target.host, port: target.port })
    let written = false
    socket.on("connect", () =>
      socket.end(encodeOctetCounted(message), () => {
        written = true
        settle(sent)
      })
    )
    socket.on("error", (error) => settle(unreachable(`syslog over TCP to ${where(target)} failed (${why(error)})`)))
    // Once written, the socket closes itself (end): destroying it could cut the message.
    return () => {
      if (!written) socket.destroy()
    }
  })
}

/** Runs one check against one address. */
export const runCheck = (check: CheckName, flow: Pick<Flow, "id" | "transport">, target: CheckTarget): Promise<Attempt> => {
  const transport = flow.transport === "udp" ? "udp" : "tcp"
  switch (check) {
    case "syslog":
      return syslogSend(target, transport, flow.id)
    case "oftp":
      return oftpHello(target, probeSerial(flow.id))
    case "fgfm":
      return fgfmRegister(target, probeSerial(flow.id))
    case "fgfm-discover":
      return fgfmDiscover(target, `FMG-VMPROBE${probeSerial(flow.id).slice(-7)}`)
    case "ha":
      return haJoin(target)
    case "https":
      return httpAnswer(target, true)
    case "http":
      return httpAnswer(target, false)
    case "ssh":
      return sshHandshake(target)
    case "ftp":
      return ftpGreeting(target)
    case "smtp":
      return smtpGreeting(target)
    case "dns":
      return dnsAnswer(target, transport)
    case "ntp":
      return ntpAnswer(target)
    case "tls":
      return tlsHandshake(target)
    case "tcp":
      return tcpConnect(target)
  }
}
