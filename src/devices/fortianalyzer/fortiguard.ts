/**
 * The analyzer's FortiGuard update check (`config fmupdate fds-setting`) through its resolver
 * (`config system dns`): at start, for each service of the vendor table's anycast table (AV-IPS
 * packages, FortiClient packages, GeoIP), it resolves the service's name through the lab's DNS and
 * connects to TCP/443 there. Each outcome is a `fortiguard-update` event with its reason: the name
 * did not resolve (which DNS server said what, or did not answer), TCP/443 was refused or timed
 * out, or it connected. There is no FortiGuard to download from in a lab: a connection is as far
 * as the check goes, and says so.
 *
 * Which names (the vendor's anycast table): `fortiguard-anycast enable` (the default) asks for the
 * anycast domains (`globalupdate.fortinet.net` ...), with `fortiguard-anycast-source aws` the AWS
 * ones (`globalupdate2.fortinet.net` ...); `disable` asks for the non-anycast FQDNs
 * (`fds1.fortinet.com` ...).
 */
import * as dgram from "node:dgram"
import * as Schema from "effect/Schema"
import { isIP } from "node:net"
import { catalog } from "../../catalog/catalog.ts"
import type { EventBus } from "../../events/bus.ts"
import type { PortPlan } from "../../net/port-plan.ts"
import { dialTcp } from "../../net/tcp.ts"
import { decodeResponse, encodeQuery } from "../../protocols/dns/lab-zone.ts"
import { orNull, Server, settingsStruct, withDefault } from "../settings.ts"

/** `config system dns`: the servers the analyzer resolves through (DNS servers of the lab or IPv4 addresses). */
export const AnalyzerDnsSettings = settingsStruct({ primary: orNull(Server), secondary: orNull(Server) })
export type AnalyzerDnsSettings = typeof AnalyzerDnsSettings.Type

/** `config fmupdate fds-setting` (the part fazlab emulates): which FortiGuard names the analyzer asks for. */
export const FdsSettings = settingsStruct({
  fortiguardAnycast: withDefault(Schema.Literals(["enable", "disable"]), "enable"),
  fortiguardAnycastSource: withDefault(Schema.Literals(["fortinet", "aws"]), "fortinet")
})
export type FdsSettings = typeof FdsSettings.Type

/** The name each FortiGuard service is asked for, by the anycast table. */
export const fortiguardNames = (fds: FdsSettings): ReadonlyArray<{ readonly service: string; readonly name: string }> =>
  catalog.anycast.map((service) => {
    if (fds.fortiguardAnycast === "disable") return { service: service.service, name: service.fqdns[0] ?? "" }
    const wanted = fds.fortiguardAnycastSource === "aws"
    const domain = service.anycastDomains.find((entry) => entry.awsAnycastOnly === wanted) ?? service.anycastDomains[0]
    return { service: service.service, name: domain?.domain ?? "" }
  })

/** Milliseconds a resolver waits for a DNS server, and a connection for TCP/443. */
const DNS_TIMEOUT_MS = 2000
const CONNECT_TIMEOUT_MS = 5000

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

/** Runs the update check once per service; the events say how far each got. */
export const checkFortiGuard = async (options: {
  readonly analyzer: string
  readonly bus: EventBus
  readonly plan: PortPlan
  readonly dns: AnalyzerDnsSettings
  readonly fds: FdsSettings
}): Promise<void> => {
  const { analyzer, bus, plan, dns, fds } = options
  await Promise.all(fortiguardNames(fds).map(async ({ service, name }) => {
    const resolved = await resolveName(plan, analyzer, dns, name)
    if (!resolved.ok) {
      bus.publish({ type: "fortiguard-update", device: analyzer, service, name, state: "dns-failed", reason: `${service} update failed: ${resolved.reason}` })
      return
    }
    const address = resolved.addresses[0] ?? ""
    const localAddress = plan.sourceAddressOf(analyzer)
    // A lab device at that address listens on its TCP/443 wherever the port plan put it.
    const port = plan.boundEndpoints().find((endpoint) => endpoint.address === address && endpoint.port === "tcp/443")?.actualPort ?? 443
    try {
      const socket = await dialTcp({ host: address, port, timeoutMs: CONNECT_TIMEOUT_MS, ...(localAddress === undefined ? {} : { localAddress }) })
      socket.destroy()
      bus.publish({ type: "fortiguard-update", device: analyzer, service, name, state: "connected", reason: `${service}: ${name} is ${address} (by ${resolved.server}); TCP/443 connected (no FortiGuard is emulated: nothing is downloaded)` })
    } catch (cause) {
      const why = cause instanceof Error ? cause.message : String(cause)
      bus.publish({ type: "fortiguard-update", device: analyzer, service, name, state: "connect-failed", reason: `${service} update failed: ${name} is ${address} (by ${resolved.server}) but TCP/443 there failed: ${why}` })
    }
  }))
}
