/**
 * The probe's flows: one per endpoint of a catalog row, named by a stable id
 * `<source role>-><destination role>/<transport>/<port>/<purpose slug>` (DESIGN-12, contract 4).
 * The source role is the row's dialer, the destination its listener (`emulation` in the
 * catalog). Two rows that describe the same flow (the incoming and outgoing FortiAnalyzer HA
 * rows) make one flow that lists both rows. URL endpoints are HTTPS on 443 to the URL's host, so
 * their slug carries the host too.
 *
 * Everything here is derived from the catalog, so a row added to it joins the matrix as it is.
 */
import { catalogRows } from "../catalog/catalog.ts"
import { type CatalogRow, type Direction, isPortEndpoint, type Endpoint, type Transport } from "../catalog/schema.ts"

export interface Flow {
  /** The stable id: `fortigate->fortianalyzer/tcp/514/oftp`. */
  readonly id: string
  /** The role that dials (a device kind or a role such as admin-pc). */
  readonly from: string
  /** The role that listens. */
  readonly to: string
  /** "https" for a URL endpoint. */
  readonly transport: Transport | "https"
  readonly port: number
  /** The URL's host for a URL endpoint, else null. */
  readonly host: string | null
  readonly purpose: string
  readonly direction: Direction
  /** The catalog rows this flow comes from, first row first. */
  readonly rows: ReadonlyArray<CatalogRow>
  /** Only the acting HA primary listens. */
  readonly primaryOnly: boolean
}

/** Lower case, every run of characters other than letters and digits one "-". */
export const slug = (text: string): string => text.toLowerCase().replace(/[^a-z0-9]+/gu, "-").replace(/^-|-$/gu, "")

const endpointParts = (endpoint: Endpoint): { readonly transport: Transport | "https"; readonly port: number; readonly host: string | null } =>
  isPortEndpoint(endpoint)
    ? { transport: endpoint.transport, port: endpoint.port, host: null }
    : { transport: "https", port: 443, host: new URL(endpoint.url).hostname }

/** The one function that names a flow (contract 4). */
export const flowId = (row: CatalogRow, endpoint: Endpoint): string => {
  const { transport, port, host } = endpointParts(endpoint)
  const purpose = slug(row.purpose.length > 0 ? row.purpose : row.product)
  return `${row.emulation.dialer}->${row.emulation.listener}/${transport}/${port}/${host === null ? purpose : `${purpose}-${slug(host)}`}`
}

export interface FlowFilter {
  readonly direction?: Direction
  /** The source role. */
  readonly from?: string
  /** The destination role. */
  readonly to?: string
}

/** Every flow of the catalog, in the vendor table's order (incoming first), narrowed by the filter. */
export const catalogFlows = (filter: FlowFilter = {}): ReadonlyArray<Flow> => {
  const byId = new Map<string, Flow>()
  for (const row of catalogRows(filter.direction === undefined ? {} : { direction: filter.direction })) {
    if (filter.from !== undefined && row.emulation.dialer !== filter.from) continue
    if (filter.to !== undefined && row.emulation.listener !== filter.to) continue
    for (const endpoint of row.endpoints) {
      const id = flowId(row, endpoint)
      const known = byId.get(id)
      if (known !== undefined) {
        byId.set(id, { ...known, rows: [...known.rows, row], primaryOnly: known.primaryOnly || row.primaryOnly })
        continue
      }
      byId.set(id, {
        id,
        from: row.emulation.dialer,
        to: row.emulation.listener,
        ...endpointParts(endpoint),
        purpose: row.purpose.length > 0 ? row.purpose : row.product,
        direction: row.direction,
        rows: [row],
        primaryOnly: row.primaryOnly
      })
    }
  }
  return [...byId.values()]
}

/** Every role the catalog names, dialers and listeners, sorted: what `--from` and `--to` accept. */
export const catalogRoles = (): ReadonlyArray<string> =>
  [...new Set(catalogRows().flatMap((row) => [row.emulation.dialer, row.emulation.listener]))].sort()

/** The port key a listener of this flow is recorded under in the port plan and the snapshot ("tcp/443" for TLS). */
export const listenerPortKey = (flow: Pick<Flow, "transport" | "port">): string =>
  `${flow.transport === "udp" ? "udp" : "tcp"}/${flow.port}`
