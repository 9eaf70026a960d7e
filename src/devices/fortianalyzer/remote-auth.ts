/**
 * The analyzer's remote administrators: `config system admin ldap` and `config system admin
 * radius` (FortiAnalyzer's names), and the checks an SSH or JSON-RPC login of a user of
 * `user_type ldap` or `radius` makes against the server its entry names: the lab's
 * `ldap-server` or `radius-server`, or a real server outside the lab (an IPv4 host or a name).
 *
 * LDAP is ldapts' client (the maintained LDAP client of the Node ecosystem; fazlab's LDAP server
 * reads its messages with the same library): `type simple` binds as `<cnid>=<user>,<dn>` with
 * the password; `regular` binds as `username` / `password`, searches `(<cnid>=<user>)` below `dn`
 * and binds as the entry found; `anonymous` searches without binding first. With `group` set, the
 * user's `memberof-attr` values must name that group (its DN, or its `cn`). RADIUS is an
 * Access-Request (`protocols/radius/packet.ts`) with PAP or CHAP (`auth-type`; `any` is PAP) and
 * the entry's secret; an Access-Accept's `Fortinet-Group-Name` is the group. Each check is an
 * `admin-auth` event saying which server answered what, or why none did: refused or unroutable
 * (`unreachable`), no answer within `admin.setting.remote-auth-timeout` (`timeout`), a broken
 * answer (`error`).
 *
 * The report query (the vendor table's "Report query" row): FortiAnalyzer's reports resolve a
 * user to the groups the directory gives it; `groupsOf` is that query (a search of the user's
 * entry for `memberof-attr`), which the CLI's `diagnose test authserver ldap-query` runs.
 */
import * as crypto from "node:crypto"
import * as dgram from "node:dgram"
import * as net from "node:net"
import * as Schema from "effect/Schema"
import { Client, Filter, ResultCodeError } from "ldapts"
import type { EventBus } from "../../events/bus.ts"
import type { PortKey } from "../../events/events.ts"
import type { PortPlan } from "../../net/port-plan.ts"
import { resolveServer } from "../../net/server-address.ts"
import {
  attribute,
  ATTRIBUTE,
  CODE,
  decodePacket,
  encodeRequest,
  FORTINET_GROUP_NAME,
  FORTINET_VENDOR,
  type RadiusAttribute,
  responseAuthentic,
  vendorValues
} from "../../protocols/radius/packet.ts"
import { NonEmpty, orNull, Server, settingsStruct, wholeNumber, withDefault } from "../settings.ts"

const ipv4 = Schema.String.check(Schema.isPattern(/^(?:\d{1,3}\.){3}\d{1,3}$/u, { expected: "an IPv4 address such as \"10.0.0.99\"" }))

/** One `config system admin ldap` entry. */
export const AdminLdapServer = settingsStruct({
  /** What an administrator's `ldap_server` names. */
  name: NonEmpty,
  /** An `ldap-server` of the lab, or a directory outside it. */
  server: Server,
  /** Used for a server outside the lab; a lab server is where the port plan put its TCP/389. */
  port: withDefault(wholeNumber(1, 65535), 389),
  /** The attribute naming a user in its DN (`cn`, or `uid` for OpenLDAP's people). */
  cnid: withDefault(NonEmpty, "cn"),
  /** Where the users are: `ou=people,dc=fazlab,dc=lab`. */
  dn: NonEmpty,
  type: withDefault(Schema.Literals(["simple", "anonymous", "regular"]), "simple"),
  /** The DN a `regular` lookup binds as, and its password. */
  username: orNull(NonEmpty),
  password: orNull(NonEmpty),
  /** A group (its DN or its `cn`) the user must be a member of. */
  group: orNull(NonEmpty),
  memberofAttr: withDefault(NonEmpty, "memberOf"),
  /** Milliseconds a TCP connection to the server may take. */
  connectTimeout: withDefault(wholeNumber(1, 60_000), 500)
})
export type AdminLdapServer = typeof AdminLdapServer.Type

/** One `config system admin radius` entry. */
export const AdminRadiusServer = settingsStruct({
  /** What an administrator's `radius_server` names. */
  name: NonEmpty,
  /** A `radius-server` of the lab, or a RADIUS server outside it. */
  server: Server,
  /** Used for a server outside the lab; a lab server is where the port plan put its UDP/1812. */
  port: withDefault(wholeNumber(1, 65535), 1812),
  secret: NonEmpty,
  authType: withDefault(Schema.Literals(["any", "pap", "chap"]), "any"),
  /** NAS-IP-Address in the request (default: the analyzer's lab address). */
  nasIp: orNull(ipv4)
})
export type AdminRadiusServer = typeof AdminRadiusServer.Type

/** What a remote check came to. */
export type RemoteVerdict =
  | { readonly result: "accept"; readonly group: string | null; readonly reason: string }
  | { readonly result: "reject" | "unreachable" | "timeout" | "error"; readonly reason: string }

export interface RemoteAuthOptions {
  readonly analyzer: string
  readonly bus: EventBus
  readonly plan: PortPlan
  readonly ldap: ReadonlyArray<AdminLdapServer>
  readonly radius: ReadonlyArray<AdminRadiusServer>
  /** Milliseconds a server has to answer (a real-time limit: the network's, not the lab's). */
  readonly timeoutMs: number
}

/** Where a server entry points: a lab device where the port plan put its documented port, else host:port, or host and the entry's port. */
const target = (plan: PortPlan, server: string, documented: PortKey, port: number): { readonly address: string; readonly actualPort: number } =>
  plan.hasDevice(server) ? plan.resolve(server, documented) : resolveServer(plan, server, `${documented.startsWith("tcp") ? "tcp" : "udp"}/${port}`)

/** The RDN value of a DN's first RDN ("admins" of "cn=admins,ou=groups,..."). */
const firstRdnValue = (dn: string): string => /^[^=]+=([^,]*)/u.exec(dn)?.[1]?.trim().toLowerCase() ?? dn.toLowerCase()
const sameDn = (a: string, b: string): boolean => a.replace(/\s*,\s*/gu, ",").toLowerCase() === b.replace(/\s*,\s*/gu, ",").toLowerCase()

const failure = (cause: unknown, what: string, timeoutMs: number): RemoteVerdict => {
  if (cause instanceof ResultCodeError) return { result: "reject", reason: `${what} refused: ${cause.message.split(/[.:]/u)[0]} (LDAP result ${cause.code})` }
  const text = cause instanceof Error ? `${(cause as NodeJS.ErrnoException).code ?? ""} ${cause.message}` : String(cause)
  if (/ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|EADDRNOTAVAIL|ENOTFOUND/u.test(text)) return { result: "unreachable", reason: `${what}: the server is unreachable (${text.trim().split("\n")[0]})` }
  if (/timeout|timed out/iu.test(text)) return { result: "timeout", reason: `${what}: no answer within ${timeoutMs / 1000} s` }
  return { result: "error", reason: `${what}: ${text.trim().split("\n")[0]}` }
}

export class RemoteAuth {
  readonly #options: RemoteAuthOptions

  constructor(options: RemoteAuthOptions) {
    this.#options = options
  }

  ldapEntry(name: string): AdminLdapServer | undefined {
    return this.#options.ldap.find((entry) => entry.name === name)
  }

  radiusEntry(name: string): AdminRadiusServer | undefined {
    return this.#options.radius.find((entry) => entry.name === name)
  }

  /** Checks `user`'s password against the entry `entry` of `method`, and publishes `admin-auth`. */
  async check(via: "ssh" | "jsonrpc" | "cli" | "ftp", method: "ldap" | "radius", entryName: string, user: string, password: string): Promise<RemoteVerdict> {
    const { analyzer, bus } = this.#options
    const ldap = method === "ldap" ? this.ldapEntry(entryName) : undefined
    const radius = method === "radius" ? this.radiusEntry(entryName) : undefined
    const entry = ldap ?? radius
    const verdict: RemoteVerdict = ldap !== undefined
      ? await this.#ldap(ldap, user, password)
      : radius !== undefined
      ? await this.#radius(radius, user, password)
      : { result: "error", reason: `no config system admin ${method} entry named ${entryName}` }
    bus.publish({
      type: "admin-auth",
      device: analyzer,
      via,
      user,
      method,
      entry: entryName,
      server: entry?.server ?? "",
      result: verdict.result,
      group: verdict.result === "accept" ? verdict.group : null,
      reason: verdict.reason
    })
    return verdict
  }

  #client(entry: AdminLdapServer): Client {
    const { plan, analyzer, timeoutMs } = this.#options
    const where = target(plan, entry.server, "tcp/389", entry.port)
    const local = plan.sourceAddressOf(analyzer)
    return new Client({
      url: `ldap://${net.isIPv6(where.address) ? `[${where.address}]` : where.address}:${where.actualPort}`,
      connectTimeout: entry.connectTimeout,
      timeout: timeoutMs,
      createConnection: ((port: number, host: string) => net.connect({ port, host, ...(local === undefined ? {} : { localAddress: local }) })) as typeof net.connect
    })
  }

  /** The user's DN and `memberof-attr` values, found as the entry's `type` says (bound as the user for `simple`). */
  async #lookup(client: Client, entry: AdminLdapServer, user: string, password: string | null): Promise<{ readonly dn: string; readonly groups: ReadonlyArray<string> } | null> {
    const simpleDn = `${entry.cnid}=${user},${entry.dn}`
    if (entry.type === "simple" && password !== null) {
      await client.bind(simpleDn, password)
      const { searchEntries } = await client.search(simpleDn, { scope: "base", attributes: [entry.memberofAttr] })
      return { dn: simpleDn, groups: valuesOf(searchEntries[0]?.[entry.memberofAttr]) }
    }
    if (entry.type === "regular" && entry.username !== null) await client.bind(entry.username, entry.password ?? "")
    const { searchEntries } = await client.search(entry.dn, { scope: "sub", filter: `(${entry.cnid}=${Filter.escape(user)})`, attributes: [entry.memberofAttr], sizeLimit: 2 })
    const found = searchEntries[0]
    return found === undefined ? null : { dn: found.dn, groups: valuesOf(found[entry.memberofAttr]) }
  }

  async #ldap(entry: AdminLdapServer, user: string, password: string): Promise<RemoteVerdict> {
    const where = `LDAP server ${entry.server}`
    if (password === "") return { result: "reject", reason: `${where} is not asked: an empty password would be an unauthenticated bind` }
    const client = this.#client(entry)
    try {
      const found = await this.#lookup(client, entry, user, password)
      if (found === null) return { result: "reject", reason: `${where} has no entry (${entry.cnid}=${user}) below ${entry.dn}` }
      if (entry.type !== "simple") await client.bind(found.dn, password)
      const group = entry.group === null ? found.groups[0] ?? null : found.groups.find((g) => sameDn(g, entry.group ?? "") || firstRdnValue(g) === entry.group?.toLowerCase()) ?? null
      if (entry.group !== null && group === null) return { result: "reject", reason: `${where} accepted ${found.dn}, which is not a member of group ${entry.group}` }
      return { result: "accept", group, reason: `${where} accepted ${found.dn}${group === null ? "" : ` (member of ${group})`}` }
    } catch (cause) {
      return failure(cause, where, this.#options.timeoutMs)
    } finally {
      await client.unbind().catch(() => undefined)
    }
  }

  /** The report query: the groups the directory of `entryName` gives `user` (the entry's bind settings; a `simple` entry searches anonymously). */
  async groupsOf(entryName: string, user: string): Promise<{ readonly groups: ReadonlyArray<string> } | { readonly reason: string }> {
    const entry = this.ldapEntry(entryName)
    if (entry === undefined) return { reason: `no config system admin ldap entry named ${entryName}` }
    const client = this.#client(entry)
    try {
      const found = await this.#lookup(client, entry, user, null)
      return found === null ? { reason: `LDAP server ${entry.server} has no entry (${entry.cnid}=${user}) below ${entry.dn}` } : { groups: found.groups }
    } catch (cause) {
      return { reason: failure(cause, `LDAP server ${entry.server}`, this.#options.timeoutMs).reason }
    } finally {
      await client.unbind().catch(() => undefined)
    }
  }

  #radius(entry: AdminRadiusServer, user: string, password: string): Promise<RemoteVerdict> {
    const { plan, analyzer, timeoutMs } = this.#options
    const where = `RADIUS server ${entry.server}`
    const to = target(plan, entry.server, "udp/1812", entry.port)
    const local = plan.sourceAddressOf(analyzer)
    const nasIp = entry.nasIp ?? (local !== undefined && net.isIPv4(local) ? local : "127.0.0.1")
    const identifier = crypto.randomInt(256)
    const attributes: Array<RadiusAttribute> = [
      { type: ATTRIBUTE.userName, value: Buffer.from(user, "utf8") },
      { type: ATTRIBUTE.nasIpAddress, value: Buffer.from(nasIp.split(".").map(Number)) },
      { type: ATTRIBUTE.nasIdentifier, value: Buffer.from(analyzer, "utf8") }
    ]
    const request = entry.authType === "chap" ? chapRequest(identifier, entry.secret, attributes, password) : encodeRequest(identifier, entry.secret, attributes, password)
    return new Promise((resolve) => {
      const socket = dgram.createSocket(net.isIPv6(to.address) ? "udp6" : "udp4")
      const done = (verdict: RemoteVerdict) => {
        clearTimeout(timer)
        socket.close()
        resolve(verdict)
      }
      const timer = setTimeout(() => done({ result: "timeout", reason: `${where}: no answer within ${timeoutMs / 1000} s` }), timeoutMs)
      socket.on("error", (cause) => done(failure(cause, where, timeoutMs)))
      socket.on("message", (message) => {
        const answer = decodePacket(message)
        if (typeof answer === "string" || answer.identifier !== identifier) return
        if (!responseAuthentic(message, request.authenticator, entry.secret)) return done({ result: "error", reason: `${where} answered with a Response Authenticator that does not verify: its shared secret is not ${entry.name}'s` })
        if (answer.code === CODE.accessAccept) {
          const group = vendorValues(answer, FORTINET_VENDOR, FORTINET_GROUP_NAME)[0]?.toString("utf8") ?? null
          return done({ result: "accept", group, reason: `${where} sent Access-Accept${group === null ? "" : ` with Fortinet-Group-Name ${group}`}` })
        }
        const said = attribute(answer, ATTRIBUTE.replyMessage)?.toString("utf8")
        done({ result: "reject", reason: `${where} sent ${answer.code === CODE.accessReject ? "Access-Reject" : `code ${answer.code}`}${said === undefined ? "" : `: ${said}`}` })
      })
      // Connected, so that an ICMP port unreachable comes back as ECONNREFUSED.
      socket.bind({ port: 0, ...(local === undefined ? {} : { address: local }) }, () =>
        socket.connect(to.actualPort, to.address, () => socket.send(request.bytes)))
    })
  }
}

const valuesOf = (value: Buffer | Buffer[] | string[] | string | undefined): ReadonlyArray<string> =>
  value === undefined ? [] : (Array.isArray(value) ? value : [value]).map((v) => (Buffer.isBuffer(v) ? v.toString("utf8") : v))

/** An Access-Request with CHAP-Password and CHAP-Challenge instead of User-Password (RFC 2865 §5.3). */
const chapRequest = (identifier: number, secret: string, attributes: ReadonlyArray<RadiusAttribute>, password: string): { readonly bytes: Buffer; readonly authenticator: Buffer } => {
  const challenge = crypto.randomBytes(16)
  const chapId = crypto.randomInt(256)
  const response = crypto.createHash("md5").update(Buffer.from([chapId])).update(password, "utf8").update(challenge).digest()
  return encodeRequest(identifier, secret, [
    ...attributes,
    { type: ATTRIBUTE.chapPassword, value: Buffer.concat([Buffer.from([chapId]), response]) },
    { type: ATTRIBUTE.chapChallenge, value: challenge }
  ], null)
}
