/**
 * The emulated LDAP directory: the entries an `ldap-server` holds, built from the lab's users and
 * groups, and the semantics of a search over them (RFC 4511 §4.5: base object, scope, filter,
 * attribute selection) and of a simple bind.
 *
 * The tree under `base-dn` is fixed in shape, as a small OpenLDAP directory with the usual
 * object classes: the base (`dcObject`, `organization`), `ou=people` with one `inetOrgPerson` per
 * user (`uid`, `cn`, `sn`, `mail` when set, `memberOf`), and `ou=groups` with one `groupOfNames`
 * per group (`cn`, `member`). The root DSE (base "" at scope base) names the naming context and
 * LDAPv3. Matching is case-insensitive for every attribute (caseIgnoreMatch; DN-valued attributes
 * compare their normalized form): what `ldapsearch` and an analyzer's `(uid=alice)` or
 * `(&(objectClass=groupOfNames)(member=...))` need; extensible match is not emulated (it matches
 * nothing). A filter arrives as ldapts' filter objects (`messages.ts`); its evaluation here is
 * multi-valued, which ldapts' own `matches` (one value per attribute) is not.
 */
import {
  AndFilter,
  ApproximateFilter,
  EqualityFilter,
  type Filter,
  GreaterThanEqualsFilter,
  LessThanEqualsFilter,
  NotFilter,
  OrFilter,
  PresenceFilter,
  SubstringFilter
} from "ldapts"

/** A directory user as the lab file gives it. */
export interface DirectoryUser {
  readonly password: string
  /** Groups (their `cn`) the user is a member of. */
  readonly groups: ReadonlyArray<string>
  readonly mail: string | null
}

/** One entry: its DN as written, and its attributes (name as written, values). */
export interface Entry {
  readonly dn: string
  readonly attributes: ReadonlyArray<readonly [name: string, values: ReadonlyArray<string>]>
}

export type Scope = "base" | "one" | "sub" | "children"

/** The names of DN-valued attributes, compared as normalized DNs. */
const DN_ATTRIBUTES = new Set(["member", "memberof", "namingcontexts"])

/** A DN in a comparable form: RDNs split on unescaped commas, spaces around them trimmed, lowercase. */
export const normalizeDn = (dn: string): string =>
  dn.split(/(?<!\\),/u).map((rdn) => rdn.split(/(?<!\\)=/u).map((part) => part.trim()).join("=")).join(",").toLowerCase().replace(/^,$/u, "")

/** Whether `dn` is `base` itself or below it, as the scope allows. */
const inScope = (dn: string, base: string, scope: Scope): boolean => {
  if (base === "") return scope === "base" ? dn === "" : dn !== ""
  if (dn === base) return scope === "base" || scope === "sub"
  if (!dn.endsWith(`,${base}`)) return false
  if (scope === "sub" || scope === "children") return true
  return scope === "one" && !dn.slice(0, -base.length - 1).match(/(?<!\\),/u)
}

export class Directory {
  readonly baseDn: string
  readonly #entries: ReadonlyArray<Entry>
  readonly #byDn: ReadonlyMap<string, Entry>
  readonly #passwords: ReadonlyMap<string, string>

  constructor(baseDn: string, users: Readonly<Record<string, DirectoryUser>>, bind: { readonly dn: string; readonly password: string } | null) {
    this.baseDn = baseDn
    const people = `ou=people,${baseDn}`
    const groupsDn = `ou=groups,${baseDn}`
    const userDn = (uid: string) => `uid=${uid},${people}`
    const groupDn = (cn: string) => `cn=${cn},${groupsDn}`
    const members = new Map<string, Array<string>>()
    for (const [uid, user] of Object.entries(users)) {
      for (const group of user.groups) members.set(group, [...(members.get(group) ?? []), userDn(uid)])
    }
    const rdnValue = (dn: string) => /^[^=]+=([^,]*)/u.exec(dn)?.[1] ?? dn
    const entries: Array<Entry> = [
      { dn: "", attributes: [["objectClass", ["top"]], ["namingContexts", [baseDn]], ["supportedLDAPVersion", ["3"]], ["supportedExtension", ["1.3.6.1.4.1.4203.1.11.3"]], ["vendorName", ["fazlab"]]] },
      { dn: baseDn, attributes: [["objectClass", ["top", "dcObject", "organization"]], ["dc", [rdnValue(baseDn)]], ["o", [rdnValue(baseDn)]]] },
      { dn: people, attributes: [["objectClass", ["top", "organizationalUnit"]], ["ou", ["people"]]] },
      { dn: groupsDn, attributes: [["objectClass", ["top", "organizationalUnit"]], ["ou", ["groups"]]] },
      ...Object.entries(users).map(([uid, user]): Entry => ({
        dn: userDn(uid),
        attributes: [
          ["objectClass", ["top", "person", "organizationalPerson", "inetOrgPerson"]],
          ["uid", [uid]],
          ["cn", [uid]],
          ["sn", [uid]],
          ...(user.mail === null ? [] : [["mail", [user.mail]] as const]),
          ["memberOf", user.groups.map(groupDn)]
        ]
      })),
      ...[...members].map(([cn, member]): Entry => ({ dn: groupDn(cn), attributes: [["objectClass", ["top", "groupOfNames"]], ["cn", [cn]], ["member", member]] }))
    ]
    this.#entries = entries
    this.#byDn = new Map(entries.map((entry) => [normalizeDn(entry.dn), entry]))
    const passwords = new Map(Object.entries(users).map(([uid, user]) => [normalizeDn(userDn(uid)), user.password]))
    if (bind !== null) passwords.set(normalizeDn(bind.dn), bind.password)
    this.#passwords = passwords
  }

  /**
   * A simple bind (RFC 4513 §5.1): an empty DN and password is anonymous; a DN with an empty
   * password is an unauthenticated bind, refused; else the DN must be a user (or the service
   * account) and the password its own. A sentence when the bind is refused.
   */
  bind(dn: string, password: string): { readonly ok: true; readonly anonymous: boolean } | { readonly ok: false; readonly code: number; readonly reason: string } {
    if (dn === "" && password === "") return { ok: true, anonymous: true }
    if (password === "") return { ok: false, code: 53, reason: `an unauthenticated bind as ${dn} (a DN with an empty password) is refused` }
    const expected = this.#passwords.get(normalizeDn(dn))
    if (expected === undefined) return { ok: false, code: 49, reason: `no user or bind account with the DN ${dn}` }
    if (expected !== password) return { ok: false, code: 49, reason: `wrong password for ${dn}` }
    return { ok: true, anonymous: false }
  }

  /** The entries in scope that match the filter, or null when the base object does not exist. */
  search(base: string, scope: Scope, filter: Filter): ReadonlyArray<Entry> | null {
    const normalized = normalizeDn(base)
    if (normalized !== "" && !this.#byDn.has(normalized)) return null
    return this.#entries.filter((entry) => inScope(normalizeDn(entry.dn), normalized, scope) && matches(filter, entry))
  }
}

const valuesOf = (entry: Entry, attribute: string): ReadonlyArray<string> => {
  const name = attribute.toLowerCase()
  return entry.attributes.find(([n]) => n.toLowerCase() === name)?.[1] ?? []
}

const comparable = (attribute: string, value: string): string =>
  DN_ATTRIBUTES.has(attribute.toLowerCase()) ? normalizeDn(value) : value.toLowerCase()

/** RFC 4511 §4.5.1.7, with each attribute holding any number of values. */
export const matches = (filter: Filter, entry: Entry): boolean => {
  if (filter instanceof AndFilter) return filter.filters.every((f) => matches(f, entry))
  if (filter instanceof OrFilter) return filter.filters.some((f) => matches(f, entry))
  if (filter instanceof NotFilter) return !matches(filter.filter, entry)
  if (filter instanceof PresenceFilter) return filter.attribute.toLowerCase() === "objectclass" || valuesOf(entry, filter.attribute).length > 0
  if (filter instanceof EqualityFilter || filter instanceof ApproximateFilter) {
    const wanted = comparable(filter.attribute, String(filter.value))
    return valuesOf(entry, filter.attribute).some((v) => comparable(filter.attribute, v) === wanted)
  }
  if (filter instanceof GreaterThanEqualsFilter) return valuesOf(entry, filter.attribute).some((v) => v.toLowerCase() >= filter.value.toLowerCase())
  if (filter instanceof LessThanEqualsFilter) return valuesOf(entry, filter.attribute).some((v) => v.toLowerCase() <= filter.value.toLowerCase())
  if (filter instanceof SubstringFilter) {
    const initial = filter.initial.toLowerCase()
    const final = filter.final.toLowerCase()
    return valuesOf(entry, filter.attribute).some((value) => {
      let rest = value.toLowerCase()
      if (!rest.startsWith(initial)) return false
      rest = rest.slice(initial.length)
      for (const part of filter.any.map((p) => p.toLowerCase())) {
        const at = rest.indexOf(part)
        if (at < 0) return false
        rest = rest.slice(at + part.length)
      }
      return rest.length >= final.length && rest.endsWith(final)
    })
  }
  return false
}

/** The attributes a search asked for (RFC 4511 §4.5.1.8): none listed or `*`: all user attributes; `1.1`: none. */
export const selectAttributes = (entry: Entry, requested: ReadonlyArray<string>, typesOnly: boolean): ReadonlyArray<readonly [string, ReadonlyArray<string>]> => {
  const wanted = requested.map((name) => name.toLowerCase())
  const all = wanted.length === 0 || wanted.includes("*")
  if (!all && wanted.length === 1 && wanted[0] === "1.1") return []
  return entry.attributes
    .filter(([name]) => all || wanted.includes(name.toLowerCase()))
    .filter(([, values]) => values.length > 0)
    .map(([name, values]) => [name, typesOnly ? [] : values] as const)
}
