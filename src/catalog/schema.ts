/**
 * The shape of the port catalog: one `CatalogRow` per row of the vendor's FortiAnalyzer port
 * table, one `AnycastService` per row of its "Anycast and unicast services" table, and the
 * source document's revision and change log.
 *
 * Endpoints and alternatives. A row's `endpoints` are everything its Protocol-and-Port cell
 * names. Endpoints without a `choice` are all used ("TCP/514, UDP/514" is both). Endpoints
 * that share a `choice` group are alternatives: one of them is in use ("UDP/514 or TCP/514").
 * `default: true` marks the alternative in use out of the box ("UDP/554 by default, but can
 * change to TCP/554"); a group without a default lists equal alternatives. Transport "tls" is
 * TLS over TCP.
 *
 * Footnotes. A vendor footnote marker (`*`) is not part of the product or purpose text; its
 * footnote text is in the row's `notes`, and "Only the acting Primary device will listen on
 * this port." is also the flag `primaryOnly`.
 */
import * as Schema from "effect/Schema"

export const Direction = Schema.Literals(["in", "out"])
export type Direction = typeof Direction.Type

/** Every Product cell of the vendor table, as the vendor spells it (footnote markers removed). */
export const Product = Schema.Literals([
  "FortiAnalyzer",
  "FortiAI",
  "FortiAuthenticator",
  "FortiAP-S",
  "FortiMail",
  "FortiClient",
  "FortiPortal",
  "FortiGate",
  "FortiManager",
  "FortiRecorder",
  "Management",
  "FortiGuard",
  "FortiRecorder Cameras",
  "Non-Fortinet",
  "Google Maps integration",
  "Fortinet Registry"
])
export type Product = typeof Product.Type

export const Transport = Schema.Literals(["tcp", "udp", "tls"])
export type Transport = typeof Transport.Type

const kebab = /^[a-z0-9]+(?:-[a-z0-9]+)*$/

export const PortEndpoint = Schema.Struct({
  transport: Transport,
  port: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 65535 })),
  /** Endpoints of one row sharing a `choice` group are alternatives: one of them is used. */
  choice: Schema.optionalKey(Schema.String.check(Schema.isPattern(kebab))),
  /** The alternative used out of the box; only within a `choice` group. */
  default: Schema.optionalKey(Schema.Literal(true))
})
export type PortEndpoint = typeof PortEndpoint.Type

export const UrlEndpoint = Schema.Struct({
  url: Schema.String.check(Schema.isPattern(/^https:\/\/[a-z0-9.-]+$/))
})
export type UrlEndpoint = typeof UrlEndpoint.Type

export const Endpoint = Schema.Union([PortEndpoint, UrlEndpoint])
export type Endpoint = typeof Endpoint.Type

export const EmulationStatus = Schema.Literals(["emulated", "represented", "planned", "catalog-only"])
export type EmulationStatus = typeof EmulationStatus.Type

/**
 * Who plays which side of a row in a lab. `listener` and `dialer` are device kinds
 * ("fortianalyzer", "fortigate", "admin-pc", "syslog-server" ...): for incoming rows the
 * FortiAnalyzer listens, for outgoing rows it dials (Google Maps: the admin's PC dials).
 * `status`: "emulated" works today; "represented" is a flow of another party than the analyzer
 * (the Google Maps rows: the admin's PC dials) that fazlab keeps in the catalog and the firewall
 * probe but emulates neither side of; "planned" is on the roadmap; "catalog-only" is listed for
 * reference (firewall rules, docs) with no device behind it.
 */
export const Emulation = Schema.Struct({
  listener: Schema.String.check(Schema.isPattern(kebab)),
  dialer: Schema.String.check(Schema.isPattern(kebab)),
  status: EmulationStatus
})
export type Emulation = typeof Emulation.Type

/** A port endpoint, as opposed to a URL. */
export const isPortEndpoint = (endpoint: Endpoint): endpoint is PortEndpoint => "port" in endpoint

/** Alternatives are well formed: a default only inside a group, at most one per group, two or more members. */
const wellFormedChoices = Schema.makeFilter<{ readonly endpoints: ReadonlyArray<Endpoint> }>((row) => {
  const groups = new Map<string, Array<PortEndpoint>>()
  const issues: Array<Schema.FilterIssue> = []
  for (const endpoint of row.endpoints.filter(isPortEndpoint)) {
    if (endpoint.choice === undefined) {
      if (endpoint.default === true) issues.push(`${endpoint.transport}/${endpoint.port} is a default outside a choice group`)
      continue
    }
    groups.set(endpoint.choice, [...(groups.get(endpoint.choice) ?? []), endpoint])
  }
  for (const [group, members] of groups) {
    if (members.length < 2) issues.push(`choice group "${group}" has a single member`)
    if (members.filter((m) => m.default === true).length > 1) issues.push(`choice group "${group}" has several defaults`)
  }
  return issues
})

export const CatalogRow = Schema.Struct({
  /** Stable kebab id starting with the direction: "in-fortigate-oftp". */
  id: Schema.String.check(Schema.isPattern(/^(?:in|out)-[a-z0-9]+(?:-[a-z0-9]+)*$/)),
  direction: Direction,
  product: Product,
  /** The vendor's Purpose cell verbatim (empty where the vendor leaves it empty). */
  purpose: Schema.String,
  /** The vendor's Protocol-and-Port cell verbatim, HTML links reduced to their text. */
  vendorText: Schema.String,
  endpoints: Schema.NonEmptyArray(Endpoint),
  /** Only the acting primary of an HA cluster listens on these endpoints. */
  primaryOnly: Schema.Boolean,
  /** Vendor footnotes attached to the row, verbatim. */
  notes: Schema.Array(Schema.String),
  emulation: Emulation
}).check(
  wellFormedChoices,
  Schema.makeFilter((row) => row.id.startsWith(`${row.direction}-`) || `id "${row.id}" must start with "${row.direction}-"`)
)
export type CatalogRow = typeof CatalogRow.Type

export const AnycastDomain = Schema.Struct({
  domain: Schema.String.check(Schema.isPattern(/^[a-z0-9.-]+$/)),
  /** Used only when the FortiGuard Anycast source is set to AWS (the vendor's `*`). */
  awsAnycastOnly: Schema.Boolean
})
export type AnycastDomain = typeof AnycastDomain.Type

/** A row of the vendor's "Anycast and unicast services" table: servers the FortiAnalyzer reaches. */
export const AnycastService = Schema.Struct({
  service: Schema.String,
  fqdns: Schema.NonEmptyArray(Schema.String.check(Schema.isPattern(/^[a-z0-9.-]+$/))),
  anycastDomains: Schema.NonEmptyArray(AnycastDomain)
})
export type AnycastService = typeof AnycastService.Type

export const ChangeLogEntry = Schema.Struct({
  date: Schema.String.check(Schema.isPattern(/^\d{4}-\d{2}-\d{2}$/)),
  change: Schema.String
})
export type ChangeLogEntry = typeof ChangeLogEntry.Type

export const SourceDocument = Schema.Struct({
  title: Schema.String,
  /** The date of the latest change-log entry. */
  revision: Schema.String.check(Schema.isPattern(/^\d{4}-\d{2}-\d{2}$/)),
  changeLog: Schema.NonEmptyArray(ChangeLogEntry)
}).check(
  Schema.makeFilter((source) =>
    source.changeLog.at(-1)?.date === source.revision || `revision ${source.revision} is not the latest change-log date`
  )
)
export type SourceDocument = typeof SourceDocument.Type

/** Footnote texts of the vendor document, verbatim. */
export const Footnotes = Schema.Struct({
  primaryOnly: Schema.String,
  googleMaps: Schema.String,
  awsAnycast: Schema.String
})
export type Footnotes = typeof Footnotes.Type

export const Catalog = Schema.Struct({
  source: SourceDocument,
  footnotes: Footnotes,
  rows: Schema.Array(CatalogRow).check(
    Schema.makeFilter((rows) => {
      const seen = new Set<string>()
      const duplicates = rows.map((row) => row.id).filter((id) => seen.size === seen.add(id).size)
      return duplicates.length === 0 || `duplicate row ids: ${duplicates.join(", ")}`
    })
  ),
  anycast: Schema.Array(AnycastService)
})
export type Catalog = typeof Catalog.Type
