/**
 * Expectations: what a scenario step says must hold, checked against the running lab.
 *
 * Listening is checked from outside, as a client would see it (a TCP connect; for UDP, whether
 * the port can still be bound). So are the management plane's `cli` (a command over SSH on
 * TCP/22) and `api` (a JSON-RPC call over TLS/443), made as the lab file's administrator. Log
 * counts come from the analyzer's store after pending logs are flushed; "lost" and "duplicated"
 * compare the sender's sequence numbers with the store.
 */
import type { FortiAnalyzer } from "../devices/fortianalyzer/analyzer.ts"
import { DnsServer } from "../devices/dns-server/dns-server.ts"
import { FortiManager } from "../devices/fortimanager/fortimanager.ts"
import { LdapServer } from "../devices/ldap-server/ldap-server.ts"
import { RadiusServer } from "../devices/radius-server/radius-server.ts"
import { type AdminEndpoint, cliCommand, rpcCall } from "../devices/fortianalyzer/management-client.ts"
import { SmtpRelay } from "../devices/smtp-relay/relay.ts"
import { FileServer } from "../devices/file-server/file-server.ts"
import type { Lab } from "./lab.ts"
import type { ApiExpectation, CliExpectation, DnsQueryExpectation, Expectation, FortiGuardExpectation, LdapBindExpectation, RadiusRequestExpectation, ForwardedExpectation, LogsExpectation, MailExpectation, TrapExpectation, UploadedExpectation, ManagedExpectation, PrimariesExpectation, RegistrationExpectation, RoleExpectation } from "./scenario/schema.ts"

export interface Check {
  readonly passed: boolean
  readonly detail: string
}

export type ExpectationKind = "role" | "primaries" | "registration" | "listening" | "not-listening" | "logs" | "malformed" | "managed" | "forwarded" | "trap" | "mail" | "uploaded" | "dns-query" | "fortiguard" | "ldap-bind" | "radius-request" | "cli" | "api"

export const kindOf = (expectation: Expectation): ExpectationKind =>
  "role" in expectation
    ? "role"
    : "primaries" in expectation
    ? "primaries"
    : "registration" in expectation
    ? "registration"
    : "listening" in expectation
    ? "listening"
    : "notListening" in expectation
    ? "not-listening"
    : "logs" in expectation
    ? "logs"
    : "managed" in expectation
    ? "managed"
    : "forwarded" in expectation
    ? "forwarded"
    : "trap" in expectation
    ? "trap"
    : "mail" in expectation
    ? "mail"
    : "uploaded" in expectation
    ? "uploaded"
    : "dnsQuery" in expectation
    ? "dns-query"
    : "fortiguard" in expectation
    ? "fortiguard"
    : "ldapBind" in expectation
    ? "ldap-bind"
    : "radiusRequest" in expectation
    ? "radius-request"
    : "cli" in expectation
    ? "cli"
    : "api" in expectation
    ? "api"
    : "malformed"

const bounds = (e: { readonly exactly?: number; readonly atLeast?: number }): string =>
  e.exactly !== undefined ? `exactly ${e.exactly}` : e.atLeast !== undefined ? `at least ${e.atLeast}` : "any number of"

/** A one-line title, e.g. "faz-1 listens on tcp/514". */
export const describe = (expectation: Expectation): string => {
  if ("role" in expectation) return `${expectation.role.device} is ${expectation.role.is}`
  if ("primaries" in expectation) {
    const e = expectation.primaries
    return `HA group ${e.group} has ${e.exactly} ${e.exactly === 1 ? "member" : "members"} listening on tcp/5199 (acting primary)`
  }
  if ("registration" in expectation) {
    const e = expectation.registration
    return `${e.device} is ${e.is}${e.adom === null ? "" : ` in ADOM ${e.adom}`} on ${e.analyzer ?? "the analyzer"}`
  }
  if ("listening" in expectation) return `${expectation.listening.device} listens on ${expectation.listening.port}`
  if ("notListening" in expectation) return `${expectation.notListening.device} does not listen on ${expectation.notListening.port}`
  if ("logs" in expectation) {
    const e = expectation.logs
    const parts = [e.exactly !== undefined || e.atLeast !== undefined ? `${bounds(e)} logs` : "logs"]
    if (e.lost !== undefined) parts.push(`${e.lost} lost`)
    if (e.duplicated !== undefined) parts.push(`${e.duplicated} duplicated`)
    return `${e.analyzer ?? "the analyzer"} has ${parts.join(", ")} from ${e.from}`
  }
  if ("managed" in expectation) return `${expectation.managed.device} is ${expectation.managed.is} on ${expectation.managed.manager}`
  if ("forwarded" in expectation) {
    const e = expectation.forwarded
    return `${e.analyzer} forwarded ${bounds(e)} logs to log-forward server ${e.server}`
  }
  if ("trap" in expectation) {
    const e = expectation.trap
    return `${e.analyzer} sent ${bounds(e)} SNMP traps${e.name === undefined ? "" : ` ${e.name}`}`
  }
  if ("mail" in expectation) {
    const e = expectation.mail
    const about = [e.to === undefined ? "" : ` to ${e.to}`, e.subject === undefined ? "" : ` whose subject has "${e.subject}"`].join("")
    return `${e.relay} received ${bounds(e)} mails${about}`
  }
  if ("uploaded" in expectation) {
    const e = expectation.uploaded
    return `${e.server} keeps ${bounds(e)} uploaded files${e.path === undefined ? "" : ` whose path has "${e.path}"`}`
  }
  if ("dnsQuery" in expectation) {
    const e = expectation.dnsQuery
    return `${e.server} was asked ${bounds(e)} times for ${e.name ?? "any name"}`
  }
  if ("fortiguard" in expectation) {
    const e = expectation.fortiguard
    return `${e.analyzer}'s last FortiGuard check of ${e.service ?? "every service"} is ${e.state}${e.version === null ? "" : ` with v${e.version}`}`
  }
  if ("ldapBind" in expectation) {
    const e = expectation.ldapBind
    return `${e.server} answered ${bounds(e)} ${e.ok === undefined ? "" : e.ok ? "accepted " : "refused "}binds${e.dn === undefined ? "" : ` as ${e.dn}`}`
  }
  if ("radiusRequest" in expectation) {
    const e = expectation.radiusRequest
    return `${e.server} ${e.result === undefined ? "answered" : e.result === "dropped" ? "dropped" : `${e.result}ed`} ${bounds(e)} Access-Requests${e.user === undefined ? "" : ` for ${e.user}`}`
  }
  if ("cli" in expectation) return `${expectation.cli.device}'s CLI prints "${expectation.cli.line}" for ${expectation.cli.command}`
  if ("api" in expectation) {
    const e = expectation.api
    return `${e.device}'s JSON-RPC ${e.method} ${e.url} answers ${e.code}${e.contains === null ? "" : ` with "${e.contains}"`}`
  }
  const e = expectation.malformed
  return `${e.device} counted ${bounds(e)} malformed${e.reason === undefined ? "" : ` (${e.reason})`}`
}

const inBounds = (actual: number, e: { readonly exactly?: number; readonly atLeast?: number }): boolean =>
  (e.exactly === undefined || actual === e.exactly) && (e.atLeast === undefined || actual >= e.atLeast)

const analyzerFor = (lab: Lab, id: string | null): FortiAnalyzer | undefined => lab.analyzer(id)

const checkRegistration = (lab: Lab, e: RegistrationExpectation): Check => {
  const analyzer = analyzerFor(lab, e.analyzer)
  if (analyzer === undefined) return { passed: false, detail: "name the analyzer: this lab has more than one" }
  const serial = lab.serialOf(e.device)
  const registered = analyzer.store.devices.get(serial)
  const state = registered?.state ?? "unknown"
  const adomOk = e.adom === null || registered?.adom === e.adom
  const detail = registered === undefined
    ? `${serial} is not registered on ${analyzer.id}`
    : `${serial} is ${state}${registered.adom === null ? "" : ` in ADOM ${registered.adom}`}, ${registered.heldLogs} logs held, last seen from ${registered.ip}`
  return { passed: state === e.is && adomOk, detail }
}

/** `registered`: in the list with an FGFM session up; `offline`: in the list, no session. */
const checkManaged = (lab: Lab, e: ManagedExpectation): Check => {
  const manager = lab.device(e.manager)
  if (!(manager instanceof FortiManager)) return { passed: false, detail: `${e.manager} is not a FortiManager of this lab` }
  const serial = lab.serialOf(e.device)
  const device = manager.managedDevice(serial)
  if (device === undefined) return { passed: e.is === "unknown", detail: `${serial} is not in ${manager.id}'s device list` }
  const actual = [device.state, device.connected ? "registered" : "offline"]
  return {
    passed: actual.includes(e.is),
    detail: `${serial} (${device.hostname}, ${device.ip}) is ${device.state}, FGFM session ${device.connected ? "up" : "down"}`
  }
}

const checkRole = (lab: Lab, e: RoleExpectation): Check => {
  const analyzer = lab.analyzer(e.device)
  const ha = analyzer?.ha ?? null
  if (ha === null) return { passed: false, detail: `${e.device} is not a member of an HA group` }
  const role = ha.role()
  return { passed: role === e.is, detail: `${e.device} is ${role === "none" ? "neither primary nor secondary" : role} (${ha.phase()}): ${ha.reason()}` }
}

const checkLogs = async (lab: Lab, e: LogsExpectation): Promise<Check> => {
  const analyzer = analyzerFor(lab, e.analyzer)
  if (analyzer === undefined) {
    return { passed: false, detail: e.analyzer !== null && lab.groups.has(e.analyzer) ? `HA group ${e.analyzer} has no acting primary` : "name the analyzer: this lab has more than one" }
  }
  const group = analyzer.ha?.config.group
  // A sender that logs to the analyzer's HA group logs to it too (through the virtual IP).
  const sender = await lab.sentBy(e.from, group === undefined ? [analyzer.id] : [analyzer.id, group])
  analyzer.writer.flush()
  const deviceName = sender?.hostname ?? e.from
  const stored = analyzer.store.count({ device: deviceName })
  const problems: string[] = []
  if (!inBounds(stored, e)) problems.push(`expected ${bounds(e)}, got ${stored}`)
  let detail = `${stored} stored from ${deviceName}`
  if (e.lost !== undefined || e.duplicated !== undefined) {
    const sent = sender?.sent ?? 0
    const report = analyzer.store.sequenceReport(deviceName, sent)
    detail += `; ${sent} sent, ${report.missing} lost, ${report.duplicated} duplicated`
    if (e.lost !== undefined && report.missing !== e.lost) {
      problems.push(`expected ${e.lost} lost, got ${report.missing}${report.firstMissing.length > 0 ? ` (first missing: ${report.firstMissing.join(", ")})` : ""}`)
    }
    if (e.duplicated !== undefined && report.duplicated !== e.duplicated) problems.push(`expected ${e.duplicated} duplicated, got ${report.duplicated}`)
  }
  return { passed: problems.length === 0, detail: problems.length === 0 ? detail : `${problems.join("; ")} (${detail})` }
}

/** What an analyzer's `log-forward` entry sent (its own count: a UDP collector does not answer). */
const checkForwarded = (lab: Lab, e: ForwardedExpectation): Check => {
  const analyzer = analyzerFor(lab, e.analyzer)
  if (analyzer === undefined) return { passed: false, detail: `${e.analyzer} is not an analyzer of this lab` }
  analyzer.writer.flush()
  const counters = analyzer.forwarder.counters(e.server)
  if (counters === undefined) return { passed: false, detail: `${analyzer.id} has no log-forward entry with server-name ${e.server} in mode forwarding, or it has not started` }
  const detail = `${counters.forwarded} forwarded, ${counters.filtered} filtered out, ${counters.queued} waiting, ${counters.dropped} dropped`
  return { passed: inBounds(counters.forwarded, e), detail: inBounds(counters.forwarded, e) ? detail : `expected ${bounds(e)}, got ${counters.forwarded} (${detail})` }
}

/** SNMP traps an analyzer sent without error (one per version and host), of one name or all. */
const checkTrap = (lab: Lab, e: TrapExpectation): Check => {
  const analyzer = analyzerFor(lab, e.analyzer)
  if (analyzer === undefined) return { passed: false, detail: `${e.analyzer} is not an analyzer of this lab` }
  const sent = analyzer.traps.sent(e.name)
  const detail = `${sent} sent${e.name === undefined ? "" : ` as ${e.name}`}, ${analyzer.traps.sent()} traps in all`
  return { passed: inBounds(sent, e), detail: inBounds(sent, e) ? detail : `expected ${bounds(e)}, got ${sent} (${detail})` }
}

/** Mails an SMTP relay of the lab received, to one recipient and/or with a subject containing a text. */
const checkMail = (lab: Lab, e: MailExpectation): Check => {
  const relay = lab.device(e.relay)
  if (!(relay instanceof SmtpRelay)) return { passed: false, detail: `${e.relay} is not an SMTP relay of this lab` }
  const all = relay.mails()
  const matching = all.filter((mail) => (e.to === undefined || mail.to.includes(e.to)) && (e.subject === undefined || mail.subject.includes(e.subject)))
  const detail = `${matching.length} matching of ${all.length} received${all.length === 0 ? "" : `; last: "${all.at(-1)?.subject ?? ""}"`}`
  return { passed: inBounds(matching.length, e), detail: inBounds(matching.length, e) ? detail : `expected ${bounds(e)}, got ${matching.length} (${detail})` }
}

/** Files a file server of the lab keeps (uploaded to it), all or those whose path contains a text. */
const checkUploaded = (lab: Lab, e: UploadedExpectation): Check => {
  const server = lab.device(e.server)
  if (!(server instanceof FileServer)) return { passed: false, detail: `${e.server} is not a file server of this lab` }
  const all = server.files()
  const matching = all.filter((file) => e.path === undefined || file.path.includes(e.path))
  const detail = `${matching.length} matching of ${all.length} kept${matching.length === 0 ? "" : `; last: ${matching.at(-1)?.path ?? ""}`}`
  return { passed: inBounds(matching.length, e), detail: inBounds(matching.length, e) ? detail : `expected ${bounds(e)}, got ${matching.length} (${detail})` }
}

/** Queries a DNS server of the lab answered, for one name or any. */
const checkDnsQuery = (lab: Lab, e: DnsQueryExpectation): Check => {
  const server = lab.device(e.server)
  if (!(server instanceof DnsServer)) return { passed: false, detail: `${e.server} is not a DNS server of this lab` }
  const asked = server.queries(e.name)
  const detail = `${asked} queries${e.name === undefined ? "" : ` for ${e.name}`}, ${server.queries()} in all`
  return { passed: inBounds(asked, e), detail: inBounds(asked, e) ? detail : `expected ${bounds(e)}, got ${asked} (${detail})` }
}

/** The analyzer's last FortiGuard outcome of each service asked for (all of them when no service is named). */
const checkFortiGuard = (lab: Lab, e: FortiGuardExpectation): Check => {
  const analyzer = lab.analyzer(e.analyzer)
  if (analyzer === undefined) return { passed: false, detail: `${e.analyzer} is not an analyzer of this lab` }
  const outcomes = [...analyzer.fortiguard.last].filter(([service]) => e.service === null || service === e.service)
  if (outcomes.length === 0) return { passed: false, detail: `${e.analyzer} has not checked ${e.service ?? "any service"} yet` }
  const wrong = outcomes.filter(([, last]) => last.state !== e.state || (e.version !== null && last.version !== e.version))
  const said = (entries: typeof outcomes) => entries.map(([service, last]) => `${service} ${last.state}${last.version === null ? "" : ` v${last.version}`}`).join(", ")
  return { passed: wrong.length === 0, detail: wrong.length === 0 ? said(outcomes) : `not as expected: ${said(wrong)}` }
}

/** Binds an LDAP server of the lab answered, as one DN or any, accepted, refused or both. */
const checkLdapBind = (lab: Lab, e: LdapBindExpectation): Check => {
  const server = lab.device(e.server)
  if (!(server instanceof LdapServer)) return { passed: false, detail: `${e.server} is not an LDAP server of this lab` }
  const counted = server.bindsOf(e.dn, e.ok)
  const detail = `${counted} matching of ${server.bindsOf(undefined, undefined)} binds`
  return { passed: inBounds(counted, e), detail: inBounds(counted, e) ? detail : `expected ${bounds(e)}, got ${counted} (${detail})` }
}

/** Access-Requests a RADIUS server of the lab answered or dropped, for one user or any. */
const checkRadiusRequest = (lab: Lab, e: RadiusRequestExpectation): Check => {
  const server = lab.device(e.server)
  if (!(server instanceof RadiusServer)) return { passed: false, detail: `${e.server} is not a RADIUS server of this lab` }
  const counted = server.requestsOf(e.user, e.result)
  const detail = `${counted} matching of ${server.requestsOf(undefined, undefined)} requests (${server.accepted} accepted, ${server.rejected} rejected, ${server.dropped} dropped)`
  return { passed: inBounds(counted, e), detail: inBounds(counted, e) ? detail : `expected ${bounds(e)}, got ${counted} (${detail})` }
}

/** Counted from outside: a member acts as primary when its TCP/5199 accepts a connection. */
const checkPrimaries = async (lab: Lab, e: PrimariesExpectation): Promise<Check> => {
  const group = lab.groups.get(e.group)
  if (group === undefined) return { passed: false, detail: `${e.group} is not an HA group of this lab` }
  const members = group.members.map((member) => member.name)
  const open = await Promise.all(members.map((member) => lab.probe(member, "tcp/5199")))
  const listening = members.filter((_, i) => open[i] === true)
  const roles = members.map((member) => `${member} ${lab.analyzer(member)?.ha?.phase() ?? "stopped"}`).join(", ")
  const who = listening.length === 0 ? "no member accepts" : `${listening.join(" and ")} ${listening.length === 1 ? "accepts" : "accept"}`
  return {
    passed: listening.length === e.exactly,
    detail: `${who} on tcp/5199 (${roles})${listening.length === e.exactly ? "" : `, expected ${e.exactly}`}`
  }
}

/** How long one management-plane check (an SSH command, a JSON-RPC call) may take. */
const MANAGEMENT_TIMEOUT_MS = 5000

/** The analyzer's address for `port` and the credentials of its administrator `user`, or why there are none. */
const adminEndpoint = (lab: Lab, id: string, user: string, port: "tcp/22" | "tcp/443"): AdminEndpoint | string => {
  const analyzer = lab.analyzer(id)
  if (analyzer === undefined) return `${id} is not an analyzer of this lab`
  const account = analyzer.admins.user(user)
  if (account === undefined) return `${id} has no administrator ${user}; add it to its admin.user`
  // TLS/443 is on the HA group's virtual IP for a member behind one.
  const group = analyzer.ha?.config.vip === true && port === "tcp/443" ? analyzer.ha.group : id
  const where = lab.plan.resolve(group, port)
  return { host: where.address, port: where.actualPort, user, password: account.userType === "api" ? null : account.password, apiKey: account.userType === "api" ? account.apiKey : null }
}

const collapse = (text: string): string => text.replace(/\s+/gu, " ").trim()

const checkCli = async (lab: Lab, e: CliExpectation): Promise<Check> => {
  const endpoint = adminEndpoint(lab, e.device, e.user, "tcp/22")
  if (typeof endpoint === "string") return { passed: false, detail: endpoint }
  try {
    const { output } = await cliCommand(endpoint, e.command, MANAGEMENT_TIMEOUT_MS)
    const lines = output.split(/\r?\n/u).filter((line) => line.trim() !== "")
    const found = lines.some((line) => collapse(line) === collapse(e.line))
    return { passed: found, detail: found ? `${e.command} printed it over SSH (${lines.length} lines)` : `${e.command} printed ${lines.length} lines, none of them that one; first: ${JSON.stringify(lines.slice(0, 3))}` }
  } catch (cause) {
    return { passed: false, detail: cause instanceof Error ? cause.message : String(cause) }
  }
}

const checkApi = async (lab: Lab, e: ApiExpectation): Promise<Check> => {
  const endpoint = adminEndpoint(lab, e.device, e.user, "tcp/443")
  if (typeof endpoint === "string") return { passed: false, detail: endpoint }
  try {
    const answer = await rpcCall(endpoint, lab.pki.caPem, { method: e.method, url: e.url, data: e.data ?? undefined }, MANAGEMENT_TIMEOUT_MS)
    const text = JSON.stringify(answer.data ?? null)
    const contains = e.contains === null || text.includes(e.contains)
    const detail = `code ${answer.code} (${answer.message})${e.contains === null ? "" : contains ? `, data contains "${e.contains}"` : `, data does not contain "${e.contains}": ${text.slice(0, 120)}`}`
    return { passed: answer.code === e.code && contains, detail }
  } catch (cause) {
    return { passed: false, detail: cause instanceof Error ? cause.message : String(cause) }
  }
}

/**
 * The device an expectation is about, whose process checks it when devices run in processes of
 * their own: a device id, an HA group's name, or null for "the analyzer" (the only one).
 */
export const subjectOf = (expectation: Expectation): string | null => {
  if ("role" in expectation) return expectation.role.device
  if ("primaries" in expectation) return expectation.primaries.group
  if ("registration" in expectation) return expectation.registration.analyzer
  if ("listening" in expectation) return expectation.listening.device
  if ("notListening" in expectation) return expectation.notListening.device
  if ("logs" in expectation) return expectation.logs.analyzer
  if ("managed" in expectation) return expectation.managed.manager
  if ("forwarded" in expectation) return expectation.forwarded.analyzer
  if ("trap" in expectation) return expectation.trap.analyzer
  if ("mail" in expectation) return expectation.mail.relay
  if ("uploaded" in expectation) return expectation.uploaded.server
  if ("dnsQuery" in expectation) return expectation.dnsQuery.server
  if ("fortiguard" in expectation) return expectation.fortiguard.analyzer
  if ("ldapBind" in expectation) return expectation.ldapBind.server
  if ("radiusRequest" in expectation) return expectation.radiusRequest.server
  if ("cli" in expectation) return expectation.cli.device
  if ("api" in expectation) return expectation.api.device
  return expectation.malformed.device
}

export const check = async (lab: Lab, expectation: Expectation): Promise<Check> => {
  const elsewhere = lab.checkElsewhere(expectation)
  if (elsewhere !== null) return elsewhere
  if ("listening" in expectation || "notListening" in expectation) {
    const wanted = "listening" in expectation
    const { device, port } = "listening" in expectation ? expectation.listening : expectation.notListening
    const where = lab.plan.resolve(device, port)
    const open = await lab.probe(device, port)
    const detail = `${where.address}:${where.actualPort} ${open ? "accepts" : "does not accept"} (${port})`
    return { passed: open === wanted, detail }
  }
  if ("logs" in expectation) return checkLogs(lab, expectation.logs)
  if ("role" in expectation) return checkRole(lab, expectation.role)
  if ("primaries" in expectation) return checkPrimaries(lab, expectation.primaries)
  if ("registration" in expectation) return checkRegistration(lab, expectation.registration)
  if ("managed" in expectation) return checkManaged(lab, expectation.managed)
  if ("forwarded" in expectation) return checkForwarded(lab, expectation.forwarded)
  if ("trap" in expectation) return checkTrap(lab, expectation.trap)
  if ("mail" in expectation) return checkMail(lab, expectation.mail)
  if ("uploaded" in expectation) return checkUploaded(lab, expectation.uploaded)
  if ("dnsQuery" in expectation) return checkDnsQuery(lab, expectation.dnsQuery)
  if ("fortiguard" in expectation) return checkFortiGuard(lab, expectation.fortiguard)
  if ("ldapBind" in expectation) return checkLdapBind(lab, expectation.ldapBind)
  if ("radiusRequest" in expectation) return checkRadiusRequest(lab, expectation.radiusRequest)
  if ("cli" in expectation) return checkCli(lab, expectation.cli)
  if ("api" in expectation) return checkApi(lab, expectation.api)
  const e = expectation.malformed
  const analyzer = analyzerFor(lab, e.device)
  if (analyzer === undefined) return { passed: false, detail: `${e.device} is not an analyzer` }
  const counted = e.reason === undefined ? analyzer.intake.malformedTotal : analyzer.intake.malformed.get(e.reason) ?? 0
  const byReason = [...analyzer.intake.malformed].map(([reason, n]) => `${reason} ${n}`).join(", ") || "none"
  return {
    passed: inBounds(counted, e),
    detail: `${counted} counted${inBounds(counted, e) ? "" : `, expected ${bounds(e)}`} (by reason: ${byReason})`
  }
}
