/**
 * The probe's flows: one per endpoint of a catalog row, named by a stable id
 * `<source role>-><destination role>/<transport>/<port>/<purpose slug>` (DESIGN-12, contract 4).
 * The source role is the row's dialer, the destination its listener (`emulation` in the
 * catalog). Two rows that describe the same flow (the incoming and outgoing FortiAnalyzer HA
 * rows) make one flow that lists both rows. URL endpoints are HTTPS on 443 to the URL's host, so
 * their slug carries the host too.
 *
 * Everything here is derived from the catalog, so a row added to it joins the matrix as it is.
 * Beside the FortiAnalyzer's table, `LAB_ROWS` lists the flows fazlab emulates between other
 * devices of a lab that the table cannot list (a FortiGate's FGFM to its FortiManager).
 */
import { catalogRows } from "../catalog/catalog.ts"
import { type CatalogRow, type Direction, type EmulationStatus, isPortEndpoint, type Endpoint, type Transport } from "../catalog/schema.ts"
import { fortigate } from "../devices/fortigate/kind.ts"
import { fortimanager } from "../devices/fortimanager/kind.ts"

/** What the probe reads of a row: a catalog row, or one of `LAB_ROWS`. */
export interface FlowRow {
  readonly id: string
  /** In or out of the FortiAnalyzer; null for a flow between other devices. */
  readonly direction: Direction | null
  readonly product: string
  readonly purpose: string
  readonly endpoints: ReadonlyArray<Endpoint>
  readonly primaryOnly: boolean
  readonly dialer: string
  readonly listener: string
  readonly status: EmulationStatus
}

const fromCatalog = (row: CatalogRow): FlowRow => ({
  id: row.id,
  direction: row.direction,
  product: row.product,
  purpose: row.purpose,
  endpoints: row.endpoints,
  primaryOnly: row.primaryOnly,
  dialer: row.emulation.dialer,
  listener: row.emulation.listener,
  status: row.emulation.status
})

/**
 * Flows fazlab emulates between lab devices other than the FortiAnalyzer, documented in the
 * FortiManager's port reference rather than the FortiAnalyzer's: they join the matrix when no
 * `--direction` is given (they are neither in nor out of the analyzer).
 */
export const LAB_ROWS: ReadonlyArray<FlowRow> = [{
  id: "lab-fortigate-fgfm",
  direction: null,
  product: "FortiGate",
  purpose: "FGFM",
  endpoints: [{ transport: "tcp", port: 541 }],
  primaryOnly: false,
  dialer: fortigate.name,
  listener: fortimanager.name,
  status: "emulated"
}]

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
  readonly direction: Direction | null
  /** The rows this flow comes from, first row first. */
  readonly rows: ReadonlyArray<FlowRow>
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
export const flowId = (row: FlowRow, endpoint: Endpoint): string => {
  const { transport, port, host } = endpointParts(endpoint)
  const purpose = slug(row.purpose.length > 0 ? row.purpose : row.product)
  return `${row.dialer}->${row.listener}/${transport}/${port}/${host === null ? purpose : `${purpose}-${slug(host)}`}`
}

export interface FlowFilter {
  readonly direction?: Direction
  /** The source role. */
  readonly from?: string
  /** The destination role. */
  readonly to?: string
}

/** Every flow of the catalog, in the vendor table's order (incoming first, then `LAB_ROWS`), narrowed by the filter. */
export const catalogFlows = (filter: FlowFilter = {}): ReadonlyArray<Flow> => {
  const byId = new Map<string, Flow>()
  const rows = filter.direction === undefined ? [...catalogRows().map(fromCatalog), ...LAB_ROWS] : catalogRows({ direction: filter.direction }).map(fromCatalog)
  for (const row of rows) {
    if (filter.from !== undefined && row.dialer !== filter.from) continue
    if (filter.to !== undefined && row.listener !== filter.to) continue
    for (const endpoint of row.endpoints) {
      const id = flowId(row, endpoint)
      const known = byId.get(id)
      if (known !== undefined) {
        byId.set(id, { ...known, rows: [...known.rows, row], primaryOnly: known.primaryOnly || row.primaryOnly })
        continue
      }
      byId.set(id, {
        id,
        from: row.dialer,
        to: row.listener,
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
  [...new Set([...catalogRows().map(fromCatalog), ...LAB_ROWS].flatMap((row) => [row.dialer, row.listener]))].sort()

/** The port key a listener of this flow is recorded under in the port plan and the snapshot ("tcp/443" for TLS). */
export const listenerPortKey = (flow: Pick<Flow, "transport" | "port">): string =>
  `${flow.transport === "udp" ? "udp" : "tcp"}/${flow.port}`
