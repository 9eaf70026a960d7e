/**
 * The port catalog, decoded and validated once at module load, and the questions the rest of
 * fazlab asks it: which rows match a filter, which ports a device's listener binds, how an
 * endpoint is written ("tcp/514").
 *
 * The data is ours (`vendor-table.ts`): if it fails to decode, that is a bug and the import
 * throws.
 */
import * as Schema from "effect/Schema"
import { Catalog, isPortEndpoint } from "./schema.ts"
import type { CatalogRow, Direction, EmulationStatus, Endpoint, Product, Transport } from "./schema.ts"
import { vendorCatalog } from "./vendor-table.ts"

export const catalog: Catalog = Schema.decodeUnknownSync(Catalog)(vendorCatalog)

/** Every product of the catalog, in the vendor table's order, each once. */
export const products: ReadonlyArray<Product> = [...new Set(catalog.rows.map((row) => row.product))]

/** The product named `name`, compared case-insensitively; undefined when there is none. */
export const findProduct = (name: string): Product | undefined =>
  products.find((product) => product.toLowerCase() === name.toLowerCase())

export interface RowFilter {
  /** A product name, compared case-insensitively. */
  readonly product?: string
  readonly direction?: Direction
}

/** Catalog rows in the vendor table's order, incoming first; narrowed by the filter. */
export const catalogRows = (filter: RowFilter = {}): ReadonlyArray<CatalogRow> =>
  catalog.rows.filter((row) =>
    (filter.product === undefined || row.product.toLowerCase() === filter.product.toLowerCase()) &&
    (filter.direction === undefined || row.direction === filter.direction)
  )

/** The row of the anycast table's names: FortiGuard's "AV/IPS, SMS, FTM, Licensing, ... GeoIP" on TCP/443. */
export const FORTIGUARD_SERVICES_ROW = "out-fortiguard-services"

/** One name of the vendor's "Anycast and unicast services" table. */
export interface FqdnRow {
  /** The vendor's Service cell ("AV-IPS packages"). */
  readonly service: string
  readonly name: string
  /** unicast: one of the service's non-anycast FQDNs; anycast: one of its anycast domain names. */
  readonly kind: "unicast" | "anycast"
  /** An anycast name used only when the FortiGuard Anycast source is set to AWS (the vendor's footnote). */
  readonly awsAnycastOnly: boolean
  /** What fazlab does with the name: the emulation status of FortiGuard's services row, which serves it. */
  readonly status: EmulationStatus
}

/**
 * The anycast/unicast table, one row per service and name (its FQDNs, then its anycast domain
 * names). They are FortiGuard services the analyzer reaches, so a filter keeps them only for
 * the product FortiGuard and the direction "out".
 */
export const fqdnRows = (filter: RowFilter = {}): ReadonlyArray<FqdnRow> => {
  if (!((filter.product === undefined || filter.product.toLowerCase() === "fortiguard") && (filter.direction === undefined || filter.direction === "out"))) return []
  const status = catalog.rows.find((row) => row.id === FORTIGUARD_SERVICES_ROW)?.emulation.status ?? "catalog-only"
  return catalog.anycast.flatMap((service) => [
    ...service.fqdns.map((name) => ({ service: service.service, name, kind: "unicast" as const, awsAnycastOnly: false, status })),
    ...service.anycastDomains.map((domain) => ({ service: service.service, name: domain.domain, kind: "anycast" as const, awsAnycastOnly: domain.awsAnycastOnly, status }))
  ])
}

/**
 * Every host name the vendor table names, lowercase, once each, with the row whose peer serves
 * it: an outgoing row's URLs belong to that row, the anycast table's names (unicast and anycast,
 * the AWS ones too) to FortiGuard's services row.
 */
export const vendorHostNames = (): ReadonlyArray<{ readonly name: string; readonly row: string }> => {
  const names = new Map<string, string>()
  for (const row of catalog.rows) {
    for (const endpoint of row.endpoints) if (!isPortEndpoint(endpoint)) names.set(new URL(endpoint.url).hostname.toLowerCase(), row.id)
  }
  for (const { name } of fqdnRows()) names.set(name.toLowerCase(), FORTIGUARD_SERVICES_ROW)
  return [...names].map(([name, row]) => ({ name, row })).sort((a, b) => a.name.localeCompare(b.name))
}

/** A port a device's listener binds, and the catalog rows that document it. */
export interface ListenPort {
  readonly transport: Transport
  readonly port: number
  /** Only the acting HA primary listens here. */
  readonly primaryOnly: boolean
  readonly rowIds: ReadonlyArray<string>
}

/**
 * The documented ports `product`'s emulated listener binds, deduplicated by transport and port,
 * ordered by port. The FortiAnalyzer listens on every incoming row's ports (and, as an HA peer,
 * on its own outgoing HA port); any other product listens on the ports of the outgoing rows
 * naming it. Every alternative of a choice group is included: the dialer picks one. URLs are
 * not listened on. "tls/443" and "tcp/443" are both TCP port 443.
 */
export const listenPorts = (product: Product): ReadonlyArray<ListenPort> => {
  const listens = (row: CatalogRow): boolean =>
    row.direction === "out" ? row.product === product : product === "FortiAnalyzer"
  const byKey = new Map<string, ListenPort>()
  for (const row of catalog.rows.filter(listens)) {
    for (const endpoint of row.endpoints.filter(isPortEndpoint)) {
      const key = formatEndpoint(endpoint)
      const known = byKey.get(key)
      byKey.set(key, {
        transport: endpoint.transport,
        port: endpoint.port,
        primaryOnly: (known?.primaryOnly ?? false) || row.primaryOnly,
        rowIds: [...(known?.rowIds ?? []), row.id]
      })
    }
  }
  return [...byKey.values()].sort((a, b) => a.port - b.port || a.transport.localeCompare(b.transport))
}

/** "tcp/514", "tls/443", or the URL. */
export const formatEndpoint = (endpoint: Endpoint): string =>
  isPortEndpoint(endpoint) ? `${endpoint.transport}/${endpoint.port}` : endpoint.url

/**
 * A row's endpoints in one line: endpoints used together are separated by commas, the members
 * of a choice group by "or", the default marked: "tcp/3010, udp/554 (default) or tcp/554".
 */
export const formatEndpoints = (endpoints: ReadonlyArray<Endpoint>): string => {
  const parts: Array<Array<string>> = []
  const groups = new Map<string, Array<string>>()
  for (const endpoint of endpoints) {
    const text = formatEndpoint(endpoint) + (isPortEndpoint(endpoint) && endpoint.default === true ? " (default)" : "")
    const choice = isPortEndpoint(endpoint) ? endpoint.choice : undefined
    const group = choice === undefined ? undefined : groups.get(choice)
    if (group !== undefined) {
      group.push(text)
      continue
    }
    const part = [text]
    parts.push(part)
    if (choice !== undefined) groups.set(choice, part)
  }
  return parts.map((part) => part.join(" or ")).join(", ")
}
