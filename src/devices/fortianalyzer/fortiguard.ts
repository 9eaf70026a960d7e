/**
 * The analyzer's FortiGuard updates (`config fmupdate fds-setting`) through its resolver
 * (`config system dns`): when it starts, and then on its update schedule (lab time), it checks
 * each FortiGuard service: it resolves the service's name through the lab's DNS, connects to
 * TCP/443 there, runs TLS and checks that the certificate covers the name it asked for and is
 * signed by the lab CA (the analyzer's trust store here), asks for the object's manifest, and
 * downloads the object only when its version is newer than the one it has, checking its size and
 * SHA-256 against the manifest (fazlab's update protocol, docs/protocols/fortiguard.md). Each
 * service's outcome is a `fortiguard-update` event with its reason: the name did not resolve,
 * TCP/443 was refused or timed out, TLS failed, the server answered an HTTP error, downloaded
 * vX, or up to date.
 *
 * Which names (the vendor's anycast table): `fortiguard-anycast enable` (the default) asks for the
 * anycast domains (`globalupdate.fortinet.net` ...), with `fortiguard-anycast-source aws` the AWS
 * ones (`globalupdate2.fortinet.net` ...); `disable` asks for the non-anycast FQDNs
 * (`fds1.fortinet.com` ...). Licensing goes to the AV/IPS name; the sprite map, the web GUI and the
 * Google Maps licence to productapi, filestore and mapserver.fortinet.com.
 */
import * as crypto from "node:crypto"
import * as dgram from "node:dgram"
import * as http from "node:http"
import type * as net from "node:net"
import * as tls from "node:tls"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import { isIP } from "node:net"
import { catalog } from "../../catalog/catalog.ts"
import type { EventBus } from "../../events/bus.ts"
import type { LabClock } from "../../machines/clock.ts"
import type { PortPlan } from "../../net/port-plan.ts"
import { dialTcp } from "../../net/tcp.ts"
import { decodeResponse, encodeQuery } from "../../protocols/dns/lab-zone.ts"
import { compareVersions, decodeManifest, FDS_PREFIX, manifestPath, packagePath } from "../../protocols/fortiguard/objects.ts"
import { Enable, orNull, Server, settingsStruct, withDefault } from "../settings.ts"
import { type DockerSettings, meaTargets } from "./mea.ts"

/** `config system dns`: the servers the analyzer resolves through (DNS servers of the lab or IPv4 addresses). */
export const AnalyzerDnsSettings = settingsStruct({ primary: orNull(Server), secondary: orNull(Server) })
export type AnalyzerDnsSettings = typeof AnalyzerDnsSettings.Type

const hourMinute = /^(\d{1,2}):([0-5]\d)$/u

/** FortiOS "hh:mm" → milliseconds. */
export const hourMinuteMs = (text: string): number => {
  const [, hours = "0", minutes = "0"] = hourMinute.exec(text) ?? []
  return (Number(hours) * 60 + Number(minutes)) * 60_000
}

/** `config update-schedule` of `fds-setting`: `frequency every` with `time hh:mm` checks every hh:mm of lab time. */
const UpdateSchedule = settingsStruct({
  status: withDefault(Enable, "enable"),
  frequency: withDefault(Schema.Literals(["every"]), "every"),
  time: withDefault(
    Schema.String.check(
      Schema.isPattern(hourMinute, { expected: "an interval \"hh:mm\" such as \"01:00\"" }),
      Schema.makeFilter((text: string) => hourMinuteMs(text) > 0, { expected: "an interval of at least \"00:01\"" })
    ),
    "01:00"
  )
})

/** `config fmupdate fds-setting` (the part fazlab emulates): which FortiGuard names the analyzer asks for, and when. */
export const FdsSettings = settingsStruct({
  fortiguardAnycast: withDefault(Schema.Literals(["enable", "disable"]), "enable"),
  fortiguardAnycastSource: withDefault(Schema.Literals(["fortinet", "aws"]), "fortinet"),
  updateSchedule: withDefault(UpdateSchedule, {})
})
export type FdsSettings = typeof FdsSettings.Type

/** The name each FortiGuard service of the anycast table is asked for. */
export const fortiguardNames = (fds: FdsSettings): ReadonlyArray<{ readonly service: string; readonly name: string }> =>
  catalog.anycast.map((service) => {
    if (fds.fortiguardAnycast === "disable") return { service: service.service, name: service.fqdns[0] ?? "" }
    const wanted = fds.fortiguardAnycastSource === "aws"
    const domain = service.anycastDomains.find((entry) => entry.awsAnycastOnly === wanted) ?? service.anycastDomains[0]
    return { service: service.service, name: domain?.domain ?? "" }
  })

/** The object each service of the anycast table downloads (docs/protocols/fortiguard.md). */
const ANYCAST_OBJECTS: Readonly<Record<string, string>> = {
  "AV-IPS packages": "av-ips",
  "AV-IPS packages (FortiClient)": "fct-av-ips",
  GeoIP: "geoip"
}

/**
 * One thing the analyzer updates: FortiGuard's objects (`fortiguard-update` events) or the
 * Fortinet Registry's applications (`mea-update`): the service its event names, the object, the
 * name it resolves, the path prefix, and where it asks for the manifest and downloads.
 */
export interface UpdateTarget {
  readonly source: "fortiguard" | "registry"
  readonly service: string
  readonly object: string
  readonly name: string
  readonly prefix: string
  readonly manifestPort: "tcp/443"
  readonly packagePort: "tcp/443" | "tcp/4443"
}

/** Every service an update round checks, with the name each is asked for under these settings. */
export const updateTargets = (fds: FdsSettings): ReadonlyArray<UpdateTarget> => {
  const anycast = fortiguardNames(fds)
  const avips = anycast[0]?.name ?? ""
  const server = { source: "fortiguard", prefix: FDS_PREFIX, manifestPort: "tcp/443", packagePort: "tcp/443" } as const
  return [
    ...anycast.map(({ service, name }) => ({ ...server, service, name, object: ANYCAST_OBJECTS[service] ?? service })),
    { ...server, service: "Licensing", object: "license", name: avips },
    { ...server, service: "Sprite map", object: "sprite-map", name: "productapi.fortinet.com" },
    { ...server, service: "Web GUI", object: "web-gui", name: "filestore.fortinet.com" },
    { ...server, service: "Google Maps license", object: "google-maps-license", name: "mapserver.fortinet.com" }
  ]
}

/** Milliseconds a resolver waits for a DNS server, a connection for TCP, a handshake and a response (real-time limits of the network). */
const DNS_TIMEOUT_MS = 2000
const CONNECT_TIMEOUT_MS = 5000
const TLS_TIMEOUT_MS = 5000
const RESPONSE_TIMEOUT_MS = 10_000
/** The largest object the analyzer downloads. */
const MAX_OBJECT_BYTES = 16 * 1024 * 1024

export type Resolution = { readonly ok: true; readonly addresses: ReadonlyArray<string>; readonly server: string } | { readonly ok: false; readonly reason: string }

/** Resolves `name` (A) through the primary, then the secondary DNS server, from the analyzer's address. */
export const resolveName = async (plan: PortPlan, analyzer: string, dns: AnalyzerDnsSettings, name: string): Promise<Resolution> => {
  const servers = [dns.primary, dns.secondary].filter((server): server is string => server !== null)
  if (servers.length === 0) return { ok: false, reason: `${analyzer} has no DNS server (config system dns primary)` }
  const failures: Array<string> = []
  for (const server of servers) {
    const target = isIP(server) === 4 ? { address: server, actualPort: 53 } : plan.resolve(server, "udp/53")
    const answer = await askUdp(target.address, target.actualPort, plan.sourceAddressOf(analyzer), name)
    if (answer.ok) {
      if (answer.rcode === 0 && answer.addresses.length > 0) return { ok: true, addresses: answer.addresses, server }
      failures.push(`${server} answered ${answer.rcode === 3 ? "NXDOMAIN" : answer.rcode === 0 ? "no address" : `rcode ${answer.rcode}`}`)
    } else failures.push(`${server} ${answer.reason}`)
  }
  return { ok: false, reason: `${name} did not resolve: ${failures.join("; ")}` }
}

type UdpAnswer = { readonly ok: true; readonly rcode: number; readonly addresses: ReadonlyArray<string> } | { readonly ok: false; readonly reason: string }

const askUdp = (host: string, port: number, localAddress: string | undefined, name: string): Promise<UdpAnswer> =>
  new Promise((resolve) => {
    if (port === 0) return resolve({ ok: false, reason: "does not listen on udp/53" })
    const socket = dgram.createSocket("udp4")
    const id = Math.floor(Math.random() * 65_536)
    const done = (answer: UdpAnswer) => {
      clearTimeout(timer)
      socket.close()
      resolve(answer)
    }
    const timer = setTimeout(() => done({ ok: false, reason: `did not answer within ${DNS_TIMEOUT_MS / 1000} s` }), DNS_TIMEOUT_MS)
    socket.on("error", (cause) => done({ ok: false, reason: `could not be asked: ${cause.message}` }))
    socket.on("message", (message) => {
      const response = decodeResponse(message)
      if (response !== null && response.id === id) done({ ok: true, rcode: response.rcode, addresses: response.addresses })
    })
    socket.bind({ port: 0, ...(localAddress === undefined ? {} : { address: localAddress }) }, () => socket.send(encodeQuery(name, id), port, host))
  })

/** Where an HTTPS request goes: the name asked (SNI, Host, and what the certificate must cover) at an address and port. */
export interface HttpsTarget {
  readonly name: string
  readonly address: string
  readonly port: number
  /** The documented port, as sentences name it: "TCP/443". */
  readonly label: string
  readonly localAddress: string | undefined
  /** The CAs the analyzer trusts: the lab CA. */
  readonly caPem: string
}

/** How one HTTPS GET ended: the status and body, or the stage it failed at and why in words. */
export type HttpsOutcome =
  | { readonly ok: true; readonly status: number; readonly body: Buffer }
  | { readonly ok: false; readonly state: "connect-failed" | "tls-failed" | "http-error"; readonly why: string }

/** Why a certificate was refused, in words: the name it does not cover, or the CA it does not chain to. */
const tlsWhy = (target: HttpsTarget, cause: unknown): string => {
  const code = cause instanceof Error && "code" in cause ? String(cause.code) : ""
  const message = cause instanceof Error ? cause.message : String(cause)
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") return `the certificate there does not cover ${target.name}`
  if (/CERT|SIGNATURE|ISSUER/u.test(code)) return `the certificate there is not signed by a CA the analyzer trusts (${code})`
  return message
}

/** Dials TCP, runs TLS verifying the certificate by name against the trusted CA, and sends one GET. */
export const httpsGet = async (target: HttpsTarget, path: string, headers: Readonly<Record<string, string>>): Promise<HttpsOutcome> => {
  let raw: net.Socket
  try {
    raw = await dialTcp({ host: target.address, port: target.port, timeoutMs: CONNECT_TIMEOUT_MS, ...(target.localAddress === undefined ? {} : { localAddress: target.localAddress }) })
  } catch (cause) {
    return { ok: false, state: "connect-failed", why: cause instanceof Error ? cause.message : String(cause) }
  }
  const secure = await new Promise<tls.TLSSocket | string>((resolve) => {
    const socket = tls.connect({ socket: raw, servername: target.name, ca: [target.caPem] })
    const timer = setTimeout(() => done(`no TLS handshake within ${TLS_TIMEOUT_MS / 1000} s`), TLS_TIMEOUT_MS)
    const done = (outcome: tls.TLSSocket | string) => {
      clearTimeout(timer)
      socket.off("error", onError)
      if (typeof outcome === "string") socket.destroy()
      resolve(outcome)
    }
    const onError = (cause: unknown) => done(tlsWhy(target, cause))
    socket.once("error", onError)
    socket.once("secureConnect", () => done(socket))
  })
  if (typeof secure === "string") return { ok: false, state: "tls-failed", why: secure }
  return new Promise((resolve) => {
    const request = http.request({ createConnection: () => secure, method: "GET", path, headers: { ...headers, host: target.name } }, (response) => {
      const chunks: Array<Buffer> = []
      let size = 0
      response.on("data", (chunk: Buffer) => {
        size += chunk.length
        if (size > MAX_OBJECT_BYTES) request.destroy(new Error(`the answer is over ${MAX_OBJECT_BYTES} bytes`))
        else chunks.push(chunk)
      })
      response.on("end", () => {
        secure.destroy()
        resolve({ ok: true, status: response.statusCode ?? 0, body: Buffer.concat(chunks) })
      })
      response.on("error", (cause) => resolve({ ok: false, state: "http-error", why: cause.message }))
    })
    request.setTimeout(RESPONSE_TIMEOUT_MS, () => request.destroy(new Error(`no answer within ${RESPONSE_TIMEOUT_MS / 1000} s`)))
    request.on("error", (cause) => {
      secure.destroy()
      resolve({ ok: false, state: "http-error", why: cause.message })
    })
    request.end()
  })
}

/** The `{ error }` sentence of a refusal, or its status line. */
const refusal = (status: number, body: Buffer): string => {
  try {
    const parsed: unknown = JSON.parse(body.toString("utf8"))
    if (typeof parsed === "object" && parsed !== null && "error" in parsed && typeof parsed.error === "string") return `${status} ${parsed.error}`
  } catch {
    // Not fazlab's JSON: the status says it.
  }
  return `${status} ${http.STATUS_CODES[status] ?? ""}`.trim()
}

/** One object fetched from a vendor server: how far it got, the version the analyzer has after it, and a sentence. */
export interface ObjectOutcome {
  readonly state: "connect-failed" | "tls-failed" | "http-error" | "downloaded" | "up-to-date"
  readonly version: string | null
  /** Why, or what it got, without the service's name. */
  readonly detail: string
  readonly bytes: number
}

/**
 * Asks `manifestAt` for the object's manifest, and downloads it from `packageAt` when its version
 * is newer than `installed` (size and SHA-256 checked against the manifest).
 */
export const fetchObject = async (options: {
  readonly manifestAt: HttpsTarget
  readonly packageAt: HttpsTarget
  readonly prefix: string
  readonly object: string
  readonly installed: string | null
  readonly headers: Readonly<Record<string, string>>
}): Promise<ObjectOutcome> => {
  const { manifestAt, packageAt, prefix, object, installed, headers } = options
  const failed = (target: HttpsTarget, outcome: Extract<HttpsOutcome, { ok: false }>): ObjectOutcome => ({
    state: outcome.state,
    version: installed,
    bytes: 0,
    detail: outcome.state === "connect-failed"
      ? `${target.label} there failed: ${outcome.why}`
      : outcome.state === "tls-failed"
      ? `TLS on ${target.label} failed: ${outcome.why}`
      : `${target.name} did not answer: ${outcome.why}`
  })
  const manifestPathOf = manifestPath(prefix, object)
  const asked = await httpsGet(manifestAt, manifestPathOf, headers)
  if (!asked.ok) return failed(manifestAt, asked)
  if (asked.status !== 200) return { state: "http-error", version: installed, bytes: 0, detail: `${manifestAt.name} answered ${refusal(asked.status, asked.body)} (GET ${manifestPathOf})` }
  const decoded = decodeManifest(asked.body.toString("utf8"))
  if (Result.isFailure(decoded) || decoded.success.object !== object) {
    return { state: "http-error", version: installed, bytes: 0, detail: `${manifestAt.name} answered GET ${manifestPathOf} with something that is not ${object}'s manifest` }
  }
  const manifest = decoded.success
  if (installed !== null && compareVersions(manifest.version, installed) <= 0) {
    return { state: "up-to-date", version: installed, bytes: 0, detail: `v${installed} is the newest (${manifestAt.name} has v${manifest.version}); up to date` }
  }
  const pathOf = packagePath(prefix, object, manifest.version)
  const got = await httpsGet(packageAt, pathOf, headers)
  if (!got.ok) return failed(packageAt, got)
  if (got.status !== 200) return { state: "http-error", version: installed, bytes: 0, detail: `${packageAt.name} answered ${refusal(got.status, got.body)} (GET ${pathOf})` }
  const digest = crypto.createHash("sha256").update(got.body).digest("hex")
  if (got.body.length !== manifest.size || digest !== manifest.sha256) {
    return { state: "http-error", version: installed, bytes: 0, detail: `${packageAt.name} sent ${got.body.length} bytes of v${manifest.version} that do not match its manifest (${manifest.size} bytes, sha256 ${manifest.sha256.slice(0, 12)}...); not installed` }
  }
  return { state: "downloaded", version: manifest.version, bytes: got.body.length, detail: `downloaded v${manifest.version} (${got.body.length} bytes${installed === null ? "" : `, was v${installed}`})` }
}

/** The TCP port of a lab device listening on `port` at `address` (wherever the port plan put it), else the documented one. */
export const portAt = (plan: PortPlan, address: string, port: "tcp/443" | "tcp/4443"): { readonly port: number; readonly label: string } => ({
  port: plan.boundEndpoints().find((endpoint) => endpoint.address === address && endpoint.port === port)?.actualPort ?? Number(port.slice(4)),
  label: port.toUpperCase()
})

export interface FortiGuardUpdaterOptions {
  readonly analyzer: string
  readonly serial: string
  readonly bus: EventBus
  readonly plan: PortPlan
  readonly clock: LabClock
  readonly dns: AnalyzerDnsSettings
  readonly fds: FdsSettings
  /** `config system docker`: the management extension applications checked on the registry with each round. */
  readonly docker: DockerSettings
  /** The CA the analyzer trusts for FortiGuard's certificates (the lab CA); null: no PKI, no checks. */
  readonly caPem: string | null
}

/**
 * The analyzer's FortiGuard updates and its management extension applications' (`mea.ts`), from
 * start to stop; what it installed stays across restarts.
 */
export class FortiGuardUpdater {
  readonly #options: FortiGuardUpdaterOptions
  /** The version of each object and application installed (object → version). */
  readonly installed = new Map<string, string>()
  /** Each FortiGuard service's last outcome (for the `fortiguard` expectation). */
  readonly last = new Map<string, { readonly state: string; readonly version: string | null; readonly at: number }>()
  #timer: unknown = null
  /** Bumped at each start and stop: a round of an earlier run does not schedule the next. */
  #run = 0

  constructor(options: FortiGuardUpdaterOptions) {
    this.#options = options
  }

  /** Checks now (with a DNS server to ask and a CA to trust), then every update-schedule interval. */
  start(): void {
    const { dns, caPem } = this.#options
    if (dns.primary === null || caPem === null) return
    this.stop()
    void this.#round(this.#run)
  }

  stop(): void {
    this.#run++
    if (this.#timer !== null) this.#options.clock.clearTimeout(this.#timer)
    this.#timer = null
  }

  async #round(run: number): Promise<void> {
    const { fds, docker, clock } = this.#options
    await Promise.all([...updateTargets(fds), ...meaTargets(docker)].map((target) => this.#check(target, run)))
    if (run !== this.#run || fds.updateSchedule.status !== "enable") return
    this.#timer = clock.setTimeout(() => void this.#round(run), hourMinuteMs(fds.updateSchedule.time))
  }

  async #check(target: UpdateTarget, run: number): Promise<void> {
    const { analyzer, serial, bus, plan, dns, clock, caPem } = this.#options
    const { service, name, object } = target
    const publish = (state: ObjectOutcome["state"] | "dns-failed", version: string | null, reason: string) => {
      if (run !== this.#run) return
      if (target.source === "registry") {
        bus.publish({ type: "mea-update", device: analyzer, app: object, name, state, version, reason })
        return
      }
      this.last.set(service, { state, version, at: clock.now() })
      bus.publish({ type: "fortiguard-update", device: analyzer, service, name, state, version, reason })
    }
    const installed = this.installed.get(object) ?? null
    const resolved = await resolveName(plan, analyzer, dns, name)
    if (!resolved.ok) return publish("dns-failed", installed, `${service} update failed: ${resolved.reason}`)
    const address = resolved.addresses[0] ?? ""
    const at = (port: UpdateTarget["packagePort"]): HttpsTarget => ({ name, address, ...portAt(plan, address, port), localAddress: plan.sourceAddressOf(analyzer), caPem: caPem ?? "" })
    const outcome = await fetchObject({ manifestAt: at(target.manifestPort), packageAt: at(target.packagePort), prefix: target.prefix, object, installed, headers: { "x-fazlab-serial": serial } })
    if (outcome.state === "downloaded" && run === this.#run) this.installed.set(object, outcome.version ?? "")
    const found = `${name} is ${address} (by ${resolved.server})`
    publish(
      outcome.state,
      outcome.version,
      outcome.state === "downloaded" || outcome.state === "up-to-date" ? `${service}: ${found}; ${outcome.detail}` : `${service} update failed: ${found} but ${outcome.detail}`
    )
  }
}
