/**
 * LDAPv3 messages on the wire (RFC 4511 §4.1-4.12), as an emulated server reads requests and
 * writes responses, over TCP and connectionless (CLDAP, RFC 1798 as Active Directory answers
 * it: one request per datagram, its responses together in one datagram).
 *
 * BER is ldapts' (the maintained LDAP library of the Node ecosystem, pure TypeScript; ldapjs,
 * which had a server, is archived): its `BerReader` frames a message, its `BindRequest` and
 * `ExtendedRequest` parse those bodies, and a search's filter becomes ldapts' filter objects.
 * ldapts is a client, which never reads a search request: its `FilterParser` reads a present
 * filter's attribute from the start of the buffer instead of the filter's own bytes (9.2.0), so
 * the search request and its filter are read here (RFC 4511 §4.5.1), and so are the responses a
 * server writes (with its `BerWriter`: LDAPResult, BindResponse, SearchResultEntry,
 * SearchResultDone, ExtendedResponse, and the response of each write operation).
 */
import {
  AndFilter,
  ApproximateFilter,
  Ber,
  BerReader,
  BerWriter,
  BindRequest,
  EqualityFilter,
  ExtendedRequest,
  ExtensibleFilter,
  type Filter,
  GreaterThanEqualsFilter,
  LessThanEqualsFilter,
  NotFilter,
  OrFilter,
  PresenceFilter,
  ProtocolOperation,
  SearchFilter,
  SubstringFilter
} from "ldapts"
import type { Scope } from "./directory.ts"

/** The largest LDAP message fazlab reads (a search request is a few hundred bytes). */
export const MAX_LDAP_MESSAGE = 1_048_576

/** RFC 4511 §4.1.9 result codes fazlab answers with. */
export const RESULT = {
  success: 0,
  protocolError: 2,
  authMethodNotSupported: 7,
  noSuchObject: 32,
  invalidCredentials: 49,
  unavailable: 52,
  unwillingToPerform: 53
} as const

/** A result code's RFC 4511 name ("invalidCredentials"). */
export const resultName = (code: number): string => Object.entries(RESULT).find(([, value]) => value === code)?.[0] ?? String(code)

/** The write operations (add, modify, delete, modify DN, compare) and their responses' tags. */
const WRITE_RESPONSES: ReadonlyMap<number, readonly [name: string, response: number]> = new Map([
  [ProtocolOperation.LDAP_REQ_ADD, ["add", ProtocolOperation.LDAP_RES_ADD]],
  [ProtocolOperation.LDAP_REQ_MODIFY, ["modify", ProtocolOperation.LDAP_RES_MODIFY]],
  [ProtocolOperation.LDAP_REQ_DELETE, ["delete", ProtocolOperation.LDAP_RES_DELETE]],
  [ProtocolOperation.LDAP_REQ_MODRDN, ["modify DN", ProtocolOperation.LDAP_RES_MODRDN]],
  [ProtocolOperation.LDAP_REQ_COMPARE, ["compare", ProtocolOperation.LDAP_RES_COMPARE]]
])

export type LdapRequest =
  | { readonly op: "bind"; readonly messageId: number; readonly version: number; readonly dn: string; readonly password: string }
  /** A SASL bind, or a bind body ldapts cannot read: answered authMethodNotSupported. */
  | { readonly op: "bind-unsupported"; readonly messageId: number; readonly detail: string }
  | {
    readonly op: "search"
    readonly messageId: number
    readonly base: string
    readonly scope: Scope
    readonly filter: Filter
    readonly attributes: ReadonlyArray<string>
    readonly typesOnly: boolean
    readonly sizeLimit: number
  }
  | { readonly op: "unbind"; readonly messageId: number }
  | { readonly op: "abandon"; readonly messageId: number }
  | { readonly op: "extended"; readonly messageId: number; readonly oid: string }
  | { readonly op: "write"; readonly messageId: number; readonly name: string; readonly responseTag: number }

/** One message read from the front of `buffer`: the request (or a sentence saying what is wrong with it) and the bytes it took; null until it is whole. */
export const readMessage = (buffer: Buffer): { readonly request: LdapRequest | string; readonly bytes: number } | null => {
  if (buffer.length === 0) return null
  if (buffer[0] !== 0x30) return { request: `a message that does not start as an LDAPMessage (a BER SEQUENCE, byte 0x30) but with byte 0x${(buffer[0] ?? 0).toString(16)}`, bytes: buffer.length }
  const reader = new BerReader(buffer)
  let length: number | null
  try {
    length = reader.readSequence() === null ? null : reader.length
  } catch (cause) {
    return { request: `an LDAPMessage whose length cannot be read (${(cause as Error).message})`, bytes: buffer.length }
  }
  if (length === null) return null
  if (length > MAX_LDAP_MESSAGE) return { request: `an LDAPMessage of ${length} bytes, over fazlab's limit of ${MAX_LDAP_MESSAGE}`, bytes: buffer.length }
  const bytes = reader.offset + length
  if (buffer.length < bytes) return null
  return { request: readBody(new BerReader(buffer.subarray(reader.offset, bytes))), bytes }
}

const readBody = (reader: BerReader): LdapRequest | string => {
  let messageId: number | null = null
  try {
    messageId = reader.readInt()
    const tag = reader.readSequence()
    if (messageId === null || tag === null) return "an LDAPMessage without a message ID and an operation"
    switch (tag) {
      case ProtocolOperation.LDAP_REQ_BIND: {
        const bind = new BindRequest({ messageId })
        try {
          bind.parse(reader, [])
        } catch (cause) {
          return { op: "bind-unsupported", messageId, detail: (cause as Error).message }
        }
        return { op: "bind", messageId, version: bind.version, dn: bind.dn, password: bind.password }
      }
      case ProtocolOperation.LDAP_REQ_SEARCH: {
        const base = reader.readString() ?? ""
        const scope = SCOPES[reader.readEnumeration() ?? -1]
        if (scope === undefined) return `message ${messageId}: a search with a scope that is not base (0), one (1), sub (2) or children (3)`
        reader.readEnumeration()
        const sizeLimit = reader.readInt() ?? 0
        reader.readInt()
        const typesOnly = reader.readBoolean() ?? false
        const filter = readFilter(reader)
        const attributes: Array<string> = []
        if (reader.readSequence(Ber.Sequence | Ber.Constructor) !== null) {
          const end = reader.offset + reader.length
          while (reader.offset < end) attributes.push(reader.readString() ?? "")
        }
        return { op: "search", messageId, base, scope, filter, attributes, typesOnly, sizeLimit }
      }
      case ProtocolOperation.LDAP_REQ_UNBIND:
        return { op: "unbind", messageId }
      case ProtocolOperation.LDAP_REQ_ABANDON:
        return { op: "abandon", messageId }
      case ProtocolOperation.LDAP_REQ_EXTENSION: {
        const extended = new ExtendedRequest({ messageId })
        extended.parse(reader, [])
        return { op: "extended", messageId, oid: extended.oid }
      }
      default: {
        const write = WRITE_RESPONSES.get(tag)
        return write === undefined ? `message ${messageId}: operation 0x${tag.toString(16)} is not an LDAPv3 request` : { op: "write", messageId, name: write[0], responseTag: write[1] }
      }
    }
  } catch (cause) {
    return `${messageId === null ? "an LDAPMessage" : `message ${messageId}`} that is not valid BER for its operation (${(cause as Error).message})`
  }
}

const SCOPES: ReadonlyArray<Scope> = ["base", "one", "sub", "children"]

/** One search filter (RFC 4511 §4.5.1.7) as ldapts' filter objects; an extensible match stays one that matches nothing. */
const readFilter = (reader: BerReader): Filter => {
  const tag = reader.readSequence()
  if (tag === null) throw new Error("the search filter ends early")
  const end = reader.offset + reader.length
  const set = (): Array<Filter> => {
    const filters: Array<Filter> = []
    while (reader.offset < end) filters.push(readFilter(reader))
    return filters
  }
  const pair = () => ({ attribute: reader.readString() ?? "", value: reader.readString() ?? "" })
  switch (tag) {
    case SearchFilter.and:
      return new AndFilter({ filters: set() })
    case SearchFilter.or:
      return new OrFilter({ filters: set() })
    case SearchFilter.not:
      return new NotFilter({ filter: readFilter(reader) })
    case SearchFilter.equalityMatch:
      return new EqualityFilter(pair())
    case SearchFilter.greaterOrEqual:
      return new GreaterThanEqualsFilter(pair())
    case SearchFilter.lessOrEqual:
      return new LessThanEqualsFilter(pair())
    case SearchFilter.approxMatch:
      return new ApproximateFilter(pair())
    case SearchFilter.present: {
      const attribute = reader.buffer.subarray(reader.offset, end).toString("utf8")
      reader.offset = end
      return new PresenceFilter({ attribute })
    }
    case SearchFilter.substrings: {
      const attribute = reader.readString() ?? ""
      const parts = { initial: "", any: [] as Array<string>, final: "" }
      reader.readSequence()
      const partsEnd = reader.offset + reader.length
      while (reader.offset < partsEnd) {
        const part = reader.peek() ?? 0
        const value = reader.readString(part) ?? ""
        if (part === (Ber.Context | 0)) parts.initial = value
        else if (part === (Ber.Context | 1)) parts.any.push(value)
        else if (part === (Ber.Context | 2)) parts.final = value
        else throw new Error(`substring part 0x${part.toString(16)}`)
      }
      return new SubstringFilter({ attribute, ...parts })
    }
    case SearchFilter.extensibleMatch:
      reader.offset = end
      return new ExtensibleFilter({})
    default:
      throw new Error(`filter choice 0x${tag.toString(16)}`)
  }
}

const message = (messageId: number, tag: number, body: (writer: BerWriter) => void): Buffer => {
  const writer = new BerWriter()
  writer.startSequence()
  writer.writeInt(messageId)
  writer.startSequence(tag)
  body(writer)
  writer.endSequence()
  writer.endSequence()
  return writer.buffer
}

const result = (writer: BerWriter, code: number, diagnostic: string, matchedDn = ""): void => {
  writer.writeEnumeration(code)
  writer.writeString(matchedDn)
  writer.writeString(diagnostic)
}

/** A response that is an LDAPResult alone (BindResponse, SearchResultDone, the write operations' responses). */
export const resultMessage = (messageId: number, tag: number, code: number, diagnostic: string): Buffer =>
  message(messageId, tag, (writer) => result(writer, code, diagnostic))

export const bindResponse = (messageId: number, code: number, diagnostic: string): Buffer =>
  resultMessage(messageId, ProtocolOperation.LDAP_RES_BIND, code, diagnostic)

export const searchDone = (messageId: number, code: number, diagnostic: string): Buffer =>
  resultMessage(messageId, ProtocolOperation.LDAP_RES_SEARCH, code, diagnostic)

export const searchEntry = (messageId: number, dn: string, attributes: ReadonlyArray<readonly [string, ReadonlyArray<string>]>): Buffer =>
  message(messageId, ProtocolOperation.LDAP_RES_SEARCH_ENTRY, (writer) => {
    writer.writeString(dn)
    writer.startSequence()
    for (const [name, values] of attributes) {
      writer.startSequence()
      writer.writeString(name)
      writer.startSequence(ProtocolOperation.LBER_SET)
      for (const value of values) writer.writeString(value)
      writer.endSequence()
      writer.endSequence()
    }
    writer.endSequence()
  })

/** An ExtendedResponse (RFC 4511 §4.12) with an optional responseName ([10]) and responseValue ([11]). */
export const extendedResponse = (messageId: number, code: number, diagnostic: string, value: string | null, name: string | null = null): Buffer =>
  message(messageId, ProtocolOperation.LDAP_RES_EXTENSION, (writer) => {
    result(writer, code, diagnostic)
    if (name !== null) writer.writeString(name, Ber.Context | 10)
    if (value !== null) writer.writeString(value, Ber.Context | 11)
  })

/** RFC 4511 §4.4.1's Notice of Disconnection (message ID 0), sent before the server closes a connection that broke the protocol. */
export const noticeOfDisconnection = (diagnostic: string): Buffer =>
  extendedResponse(0, RESULT.protocolError, diagnostic, null, "1.3.6.1.4.1.1466.20036")
