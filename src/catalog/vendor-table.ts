/**
 * The vendor's FortiAnalyzer port table (FortiAnalyzer ports reference, revision 2024-01-25),
 * row by row, as plain data. `catalog.ts` decodes it with the schema in `schema.ts`.
 *
 * One vendor quirk is kept on purpose: the "Google Maps integration" row puts its URLs in the
 * Purpose column and leaves Protocol and Port empty. Here the URLs are the row's `vendorText`
 * and its purpose is empty.
 */
import type { Catalog, CatalogRow, EmulationStatus, Endpoint, Product } from "./schema.ts"

type RowData = typeof CatalogRow.Encoded

const tcp = (port: number): Endpoint => ({ transport: "tcp", port })
const udp = (port: number): Endpoint => ({ transport: "udp", port })
const tls = (port: number): Endpoint => ({ transport: "tls", port })
const url = (address: string): Endpoint => ({ url: address })

const primaryOnlyNote = "Only the acting Primary device will listen on this port."
const googleMapsNote = "These URLs must be accessible by the admin user's PC for Google Maps integration."
const awsAnycastNote = "These domain names are used when the FortiGuard Anycast source is set to AWS in FortiAnalyzer."

interface Entry {
  readonly id: string
  readonly product: Product
  readonly purpose: string
  readonly vendorText: string
  readonly endpoints: readonly [Endpoint, ...Array<Endpoint>]
  readonly status: EmulationStatus
  /** The device kind on the other side; defaults to the product in kebab case. */
  readonly peer?: string
  readonly primaryOnly?: boolean
  readonly notes?: ReadonlyArray<string>
}

const kindOf = (product: Product): string => product.toLowerCase().replaceAll(" ", "-")

const row = (direction: "in" | "out", entry: Entry): RowData => {
  const peer = entry.peer ?? kindOf(entry.product)
  return {
    id: entry.id,
    direction,
    product: entry.product,
    purpose: entry.purpose,
    vendorText: entry.vendorText,
    endpoints: entry.endpoints,
    primaryOnly: entry.primaryOnly ?? false,
    notes: entry.notes ?? [],
    emulation: direction === "in"
      ? { listener: "fortianalyzer", dialer: peer, status: entry.status }
      : { listener: peer, dialer: "fortianalyzer", status: entry.status }
  }
}

/** Incoming: the FortiAnalyzer listens, the product dials. */
const incoming = (entry: Entry): RowData => row("in", entry)
/** Outgoing: the FortiAnalyzer dials, the product (or server) listens. */
const outgoing = (entry: Entry): RowData => row("out", entry)

const incomingRows: ReadonlyArray<RowData> = [
  incoming({
    id: "in-fortianalyzer-ha",
    product: "FortiAnalyzer",
    purpose: "HA",
    vendorText: "TCP/5199",
    endpoints: [tcp(5199)],
    status: "emulated",
    primaryOnly: true,
    notes: [primaryOnlyNote]
  }),
  incoming({ id: "in-fortiai-logging", product: "FortiAI", purpose: "Logging", vendorText: "UDP/514", endpoints: [udp(514)], status: "emulated" }),
  incoming({
    id: "in-fortiauthenticator-logging",
    product: "FortiAuthenticator",
    purpose: "Logging",
    vendorText: "UDP/514",
    endpoints: [udp(514)],
    status: "emulated"
  }),
  incoming({
    id: "in-fortiap-s-logging",
    product: "FortiAP-S",
    purpose: "Syslog, OFTP, registration, quarantine, Log & Report",
    vendorText: "TCP/514",
    endpoints: [tcp(514)],
    status: "emulated"
  }),
  incoming({ id: "in-fortimail-syslog", product: "FortiMail", purpose: "Syslog", vendorText: "UDP/514", endpoints: [udp(514)], status: "emulated" }),
  incoming({
    id: "in-forticlient-logs",
    product: "FortiClient",
    purpose: "Logs from Windows/macOS/Linux",
    vendorText: "TCP/514",
    endpoints: [tcp(514)],
    status: "emulated"
  }),
  incoming({
    id: "in-forticlient-chromebook-logs",
    product: "FortiClient",
    purpose: "Logs from Chromebook",
    vendorText: "TCP/8443",
    endpoints: [tcp(8443)],
    status: "emulated"
  }),
  incoming({
    id: "in-forticlient-fabric-member",
    product: "FortiClient",
    purpose: "Fabric Member",
    vendorText: "TLS/443",
    endpoints: [tls(443)],
    status: "emulated"
  }),
  incoming({
    id: "in-forticlient-syslog",
    product: "FortiClient",
    purpose: "Syslog",
    vendorText: "UDP/514 or TCP/514",
    endpoints: [
      { transport: "udp", port: 514, choice: "syslog-transport" },
      { transport: "tcp", port: 514, choice: "syslog-transport" }
    ],
    status: "emulated"
  }),
  incoming({
    id: "in-fortiportal-api",
    product: "FortiPortal",
    purpose: "API communications (JSON and XML)",
    vendorText: "TCP/443, TCP/8080",
    endpoints: [tcp(443), tcp(8080)],
    status: "emulated"
  }),
  incoming({ id: "in-fortigate-oftp", product: "FortiGate", purpose: "OFTP", vendorText: "TCP/514", endpoints: [tcp(514)], status: "emulated" }),
  incoming({ id: "in-fortimanager-oftp", product: "FortiManager", purpose: "OFTP", vendorText: "TCP/514", endpoints: [tcp(514)], status: "emulated" }),
  incoming({
    id: "in-fortimanager-syslog",
    product: "FortiManager",
    purpose: "Syslog",
    vendorText: "UDP/514",
    endpoints: [udp(514)],
    status: "emulated"
  }),
  incoming({
    id: "in-fortimanager-management",
    product: "FortiManager",
    purpose: "Management",
    vendorText: "TCP/541",
    endpoints: [tcp(541)],
    status: "emulated"
  }),
  incoming({
    id: "in-fortirecorder-logging-management",
    product: "FortiRecorder",
    purpose: "Logging, management",
    vendorText: "TCP/21, TCP/80, TCP/443, TCP/3011, TCP/3010 UDP/554 by default, but can change to TCP/554",
    endpoints: [
      tcp(21),
      tcp(80),
      tcp(443),
      tcp(3011),
      tcp(3010),
      { transport: "udp", port: 554, choice: "rtsp", default: true },
      { transport: "tcp", port: 554, choice: "rtsp" }
    ],
    status: "emulated"
  }),
  incoming({
    id: "in-management-ssh",
    product: "Management",
    purpose: "SSH",
    vendorText: "TCP/22",
    endpoints: [tcp(22)],
    status: "emulated",
    peer: "admin-pc"
  }),
  incoming({
    id: "in-management-web-admin",
    product: "Management",
    purpose: "Web Admin",
    vendorText: "TCP/80, TCP/443",
    endpoints: [tcp(80), tcp(443)],
    status: "emulated",
    peer: "admin-pc"
  }),
  incoming({
    id: "in-management-rest-xml-api",
    product: "Management",
    purpose: "REST API, XML API",
    vendorText: "TCP/443",
    endpoints: [tcp(443)],
    status: "emulated",
    peer: "admin-pc"
  }),
  incoming({
    id: "in-management-dc-polling",
    product: "Management",
    purpose: "DC polling",
    vendorText: "TCP/445",
    endpoints: [tcp(445)],
    status: "emulated",
    peer: "domain-controller"
  }),
  incoming({
    id: "in-management-log-aggregation",
    product: "Management",
    purpose: "Log aggregation",
    vendorText: "TCP/3000",
    endpoints: [tcp(3000)],
    status: "emulated",
    peer: "fortianalyzer"
  })
]

const outgoingRows: ReadonlyArray<RowData> = [
  outgoing({ id: "out-fortianalyzer-ha", product: "FortiAnalyzer", purpose: "HA", vendorText: "TCP/5199", endpoints: [tcp(5199)], status: "emulated" }),
  outgoing({
    id: "out-fortiguard-services",
    product: "FortiGuard",
    purpose: "AV/IPS, SMS, FTM, Licensing, Policy Override, RVS, GeoIP",
    vendorText: "TCP/443",
    endpoints: [tcp(443)],
    status: "emulated"
  }),
  outgoing({
    id: "out-fortiguard-sprite-map-web-gui",
    product: "FortiGuard",
    purpose: "Sprite map updates, Web GUI",
    vendorText: "https://productapi.fortinet.com https://filestore.fortinet.com",
    endpoints: [url("https://productapi.fortinet.com"), url("https://filestore.fortinet.com")],
    status: "emulated"
  }),
  outgoing({
    id: "out-fortiguard-google-maps-license",
    product: "FortiGuard",
    purpose: "Google Maps license management",
    vendorText: "https://mapserver.fortinet.com",
    endpoints: [url("https://mapserver.fortinet.com")],
    status: "emulated"
  }),
  outgoing({
    id: "out-fortirecorder-cameras-discovery",
    product: "FortiRecorder Cameras",
    purpose: "Polling for camera discovery (broadcast)",
    vendorText: "UDP/6666, UDP/59123",
    endpoints: [udp(6666), udp(59123)],
    status: "emulated",
    peer: "fortirecorder-camera"
  }),
  outgoing({
    id: "out-fortiportal-logging",
    product: "FortiPortal",
    purpose: "Logging",
    vendorText: "TCP/514, UDP/514",
    endpoints: [tcp(514), udp(514)],
    status: "emulated"
  }),
  outgoing({
    id: "out-non-fortinet-ldap-pki-auth",
    product: "Non-Fortinet",
    purpose: "LDAP & PKI authentication",
    vendorText: "TCP/389, UDP/389",
    endpoints: [tcp(389), udp(389)],
    status: "emulated",
    peer: "ldap-server"
  }),
  outgoing({
    id: "out-non-fortinet-log-report",
    product: "Non-Fortinet",
    purpose: "Log & report",
    vendorText: "TCP/20, TCP/21, TCP/22",
    endpoints: [tcp(20), tcp(21), tcp(22)],
    status: "emulated",
    peer: "file-server"
  }),
  outgoing({
    id: "out-non-fortinet-config-backups",
    product: "Non-Fortinet",
    purpose: "Configuration backups",
    vendorText: "TCP/22",
    endpoints: [tcp(22)],
    status: "emulated",
    peer: "file-server"
  }),
  outgoing({
    id: "out-non-fortinet-alert-email",
    product: "Non-Fortinet",
    purpose: "Alert email",
    vendorText: "TCP/25",
    endpoints: [tcp(25)],
    status: "emulated",
    peer: "smtp-server"
  }),
  outgoing({
    id: "out-non-fortinet-dns",
    product: "Non-Fortinet",
    purpose: "DNS",
    vendorText: "UDP/53, TCP/53",
    endpoints: [udp(53), tcp(53)],
    status: "emulated",
    peer: "dns-server"
  }),
  outgoing({
    id: "out-non-fortinet-ntp",
    product: "Non-Fortinet",
    purpose: "NTP",
    vendorText: "UDP/123",
    endpoints: [udp(123)],
    status: "emulated",
    peer: "ntp-server"
  }),
  outgoing({
    id: "out-non-fortinet-snmp-traps",
    product: "Non-Fortinet",
    purpose: "SNMP traps",
    vendorText: "UDP/162",
    endpoints: [udp(162)],
    status: "emulated",
    peer: "snmp-manager"
  }),
  outgoing({
    id: "out-non-fortinet-report-query",
    product: "Non-Fortinet",
    purpose: "Report query",
    vendorText: "TCP/389, UDP/389",
    endpoints: [tcp(389), udp(389)],
    status: "emulated",
    peer: "ldap-server"
  }),
  outgoing({
    id: "out-non-fortinet-syslog",
    product: "Non-Fortinet",
    purpose: "Syslog",
    vendorText: "UDP/514",
    endpoints: [udp(514)],
    status: "emulated",
    peer: "syslog-server"
  }),
  outgoing({
    id: "out-non-fortinet-oftp",
    product: "Non-Fortinet",
    purpose: "OFTP",
    vendorText: "TCP/514",
    endpoints: [tcp(514)],
    status: "emulated",
    peer: "log-server"
  }),
  outgoing({
    id: "out-non-fortinet-radius",
    product: "Non-Fortinet",
    purpose: "RADIUS",
    vendorText: "UDP/1812",
    endpoints: [udp(1812)],
    status: "emulated",
    peer: "radius-server"
  }),
  {
    ...outgoing({
      id: "out-google-maps-integration",
      product: "Google Maps integration",
      purpose: "",
      vendorText: "https://maps.google.com https://maps.googleapis.com https://fonts.googleapis.com",
      endpoints: [url("https://maps.google.com"), url("https://maps.googleapis.com"), url("https://fonts.googleapis.com")],
      status: "represented",
      notes: [googleMapsNote]
    }),
    emulation: { listener: "google-maps", dialer: "admin-pc", status: "represented" }
  },
  outgoing({
    id: "out-fortinet-registry-mea-download",
    product: "Fortinet Registry",
    purpose: "Management Extension Applications download (for example, FortiWLM MEA)",
    vendorText: "TCP/443, TCP/4443 https://registry.fortinet.com",
    endpoints: [tcp(443), tcp(4443), url("https://registry.fortinet.com")],
    status: "emulated"
  })
]

const updateDomains = [
  { domain: "globalupdate.fortinet.net", awsAnycastOnly: false },
  { domain: "usupdate.fortinet.net", awsAnycastOnly: false },
  { domain: "globalupdate2.fortinet.net", awsAnycastOnly: true },
  { domain: "usupdate2.fortinet.net", awsAnycastOnly: true }
] as const

/** The whole vendor document as data, before decoding. */
export const vendorCatalog: typeof Catalog.Encoded = {
  source: {
    title: "FortiAnalyzer ports reference",
    revision: "2024-01-25",
    changeLog: [
      { date: "2021-06-07", change: "Initial release." },
      { date: "2022-03-21", change: "Updated Incoming ports on page 1." },
      { date: "2022-03-31", change: "Updated Incoming ports on page 1." },
      { date: "2022-12-05", change: "Updated Incoming ports on page 1." },
      { date: "2023-10-19", change: "Added Anycast and unicast services on page 3." },
      { date: "2024-01-18", change: "Updated Outgoing Ports on page 2." },
      { date: "2024-01-25", change: "Updated Incoming ports on page 1 and Outgoing Ports on page 2 for FortiAnalyzer HA." }
    ]
  },
  footnotes: { primaryOnly: primaryOnlyNote, googleMaps: googleMapsNote, awsAnycast: awsAnycastNote },
  rows: [...incomingRows, ...outgoingRows],
  anycast: [
    {
      service: "AV-IPS packages",
      fqdns: ["fds1.fortinet.com", "usfds1.fortinet.com"],
      anycastDomains: updateDomains
    },
    {
      service: "AV-IPS packages (FortiClient)",
      fqdns: ["forticlient.fortinet.com", "usforticlient.fortinet.com"],
      anycastDomains: [
        { domain: "globalfctupdate.fortinet.net", awsAnycastOnly: false },
        { domain: "fctusupdate.fortinet.net", awsAnycastOnly: false }
      ]
    },
    {
      service: "GeoIP",
      fqdns: ["gip.fortinet.net", "usfqsvr.fortinet.net"],
      anycastDomains: updateDomains
    }
  ]
}
