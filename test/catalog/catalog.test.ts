/** Catalog queries (filters, listen ports, endpoint formatting), schema validation, and the renderers. */
import * as Schema from "effect/Schema"
import { describe, expect, it } from "vitest"
import { catalog, catalogRows, findProduct, formatEndpoint, formatEndpoints, listenPorts, products } from "../../src/catalog/catalog.ts"
import { renderJsonLines, renderTable } from "../../src/catalog/render.ts"
import { Catalog } from "../../src/catalog/schema.ts"
import type { CatalogRow } from "../../src/catalog/schema.ts"
import { vendorCatalog } from "../../src/catalog/vendor-table.ts"

const rowById = (id: string): CatalogRow => {
  const row = catalog.rows.find((r) => r.id === id)
  if (row === undefined) throw new Error(`no catalog row ${id}`)
  return row
}

describe("catalogRows", () => {
  it("returns every row without a filter", () => {
    expect(catalogRows()).toEqual(catalog.rows)
    expect(catalogRows()).toHaveLength(39)
  })

  it("filters by direction", () => {
    expect(catalogRows({ direction: "in" })).toHaveLength(20)
    expect(catalogRows({ direction: "out" }).every((row) => row.direction === "out")).toBe(true)
    expect(catalogRows({ direction: "out" })).toHaveLength(19)
  })

  it("filters by product, case-insensitively", () => {
    expect(catalogRows({ product: "forticlient" }).map((row) => row.id)).toEqual([
      "in-forticlient-logs",
      "in-forticlient-chromebook-logs",
      "in-forticlient-fabric-member",
      "in-forticlient-syslog"
    ])
    expect(catalogRows({ product: "GOOGLE MAPS INTEGRATION" }).map((row) => row.id)).toEqual(["out-google-maps-integration"])
    expect(catalogRows({ product: "FortiWhatever" })).toEqual([])
  })

  it("combines product and direction", () => {
    expect(catalogRows({ product: "FortiAnalyzer", direction: "out" }).map((row) => row.id)).toEqual(["out-fortianalyzer-ha"])
    expect(catalogRows({ product: "FortiGate", direction: "out" })).toEqual([])
  })

  it("lists each product once and finds them case-insensitively", () => {
    expect(products).toHaveLength(16)
    expect(new Set(products).size).toBe(products.length)
    expect(findProduct("fortiap-s")).toBe("FortiAP-S")
    expect(findProduct("nope")).toBeUndefined()
  })
})

describe("alternatives", () => {
  it("keeps FortiRecorder's UDP/554 default and its TCP/554 alternative", () => {
    const row = rowById("in-fortirecorder-logging-management")
    expect(row.endpoints.filter((e) => "port" in e && e.port === 554)).toEqual([
      { transport: "udp", port: 554, choice: "rtsp", default: true },
      { transport: "tcp", port: 554, choice: "rtsp" }
    ])
    expect(formatEndpoints(row.endpoints)).toBe("tcp/21, tcp/80, tcp/443, tcp/3011, tcp/3010, udp/554 (default) or tcp/554")
  })

  it("keeps FortiClient's syslog transports as equal alternatives and FortiPortal's logging as both", () => {
    expect(formatEndpoints(rowById("in-forticlient-syslog").endpoints)).toBe("udp/514 or tcp/514")
    const portal = rowById("out-fortiportal-logging")
    expect(portal.endpoints).toEqual([{ transport: "tcp", port: 514 }, { transport: "udp", port: 514 }])
    expect(formatEndpoints(portal.endpoints)).toBe("tcp/514, udp/514")
  })

  it("formats ports and URLs", () => {
    expect(formatEndpoint({ transport: "tls", port: 443 })).toBe("tls/443")
    expect(formatEndpoint({ url: "https://registry.fortinet.com" })).toBe("https://registry.fortinet.com")
  })
})

describe("listenPorts", () => {
  it("gives the FortiAnalyzer every incoming port once, with TCP/5199 primary only", () => {
    const ports = listenPorts("FortiAnalyzer")
    const keys = ports.map(formatEndpoint)
    expect(new Set(keys).size).toBe(keys.length)
    const expected = catalogRows({ direction: "in" }).flatMap((row) => row.endpoints.map(formatEndpoint))
    expect(new Set(keys)).toEqual(new Set(expected))
    expect(ports.filter((p) => p.primaryOnly).map(formatEndpoint)).toEqual(["tcp/5199"])
    const syslog = ports.find((p) => p.transport === "udp" && p.port === 514)
    expect(syslog?.rowIds).toContain("in-forticlient-syslog")
    expect(syslog?.rowIds).toContain("in-fortimanager-syslog")
  })

  it("gives another product the ports of the outgoing rows naming it", () => {
    expect(listenPorts("FortiPortal").map(formatEndpoint)).toEqual(["tcp/514", "udp/514"])
    expect(listenPorts("FortiGate")).toEqual([])
    expect(listenPorts("Google Maps integration")).toEqual([])
  })
})

describe("emulation status", () => {
  it("marks the syslog, OFTP, HA, FortiAP-S, FortiClient, log-forwarding (syslog and OFTP), log & report upload, configuration backup, alert-email, DNS, NTP, SNMP-trap, FortiGuard, Fortinet Registry, LDAP, report-query, RADIUS, camera-discovery, management, DC polling, log aggregation, FortiRecorder, FortiManager-management and FortiPortal API rows emulated, and none planned", () => {
    const ids = (status: string) => catalog.rows.filter((row) => row.emulation.status === status).map((row) => row.id)
    expect(ids("emulated")).toEqual([
      "in-fortianalyzer-ha",
      "in-fortiai-logging",
      "in-fortiauthenticator-logging",
      "in-fortiap-s-logging",
      "in-fortimail-syslog",
      "in-forticlient-logs",
      "in-forticlient-chromebook-logs",
      "in-forticlient-fabric-member",
      "in-forticlient-syslog",
      "in-fortiportal-api",
      "in-fortigate-oftp",
      "in-fortimanager-oftp",
      "in-fortimanager-syslog",
      "in-fortimanager-management",
      "in-fortirecorder-logging-management",
      "in-management-ssh",
      "in-management-web-admin",
      "in-management-rest-xml-api",
      "in-management-dc-polling",
      "in-management-log-aggregation",
      "out-fortianalyzer-ha",
      "out-fortiguard-services",
      "out-fortiguard-sprite-map-web-gui",
      "out-fortiguard-google-maps-license",
      "out-fortirecorder-cameras-discovery",
      "out-fortiportal-logging",
      "out-non-fortinet-ldap-pki-auth",
      "out-non-fortinet-log-report",
      "out-non-fortinet-config-backups",
      "out-non-fortinet-alert-email",
      "out-non-fortinet-dns",
      "out-non-fortinet-ntp",
      "out-non-fortinet-snmp-traps",
      "out-non-fortinet-report-query",
      "out-non-fortinet-syslog",
      "out-non-fortinet-oftp",
      "out-non-fortinet-radius",
      "out-fortinet-registry-mea-download"
    ])
    expect(ids("planned")).toEqual([])
  })

  it("has the FortiAnalyzer listen on incoming rows and dial on outgoing rows (the admin's PC dials Google Maps)", () => {
    for (const row of catalog.rows) {
      const faz = row.direction === "in" ? row.emulation.listener : row.emulation.dialer
      expect(faz === "fortianalyzer" || row.id === "out-google-maps-integration", row.id).toBe(true)
    }
    expect(rowById("in-fortigate-oftp").emulation).toEqual({ listener: "fortianalyzer", dialer: "fortigate", status: "emulated" })
  })
})

describe("the schema", () => {
  const decode = Schema.decodeUnknownSync(Catalog)
  const withRows = (rows: ReadonlyArray<unknown>) => ({ ...vendorCatalog, rows })
  const [first, second] = vendorCatalog.rows

  it("accepts the vendor table", () => {
    expect(() => decode(vendorCatalog)).not.toThrow()
  })

  it("rejects duplicate ids", () => {
    expect(() => decode(withRows([first, { ...second, id: first?.id }]))).toThrow(/duplicate row ids: in-fortianalyzer-ha/)
  })

  it("rejects an id that does not start with its direction", () => {
    expect(() => decode(withRows([{ ...first, id: "out-fortianalyzer-ha" }]))).toThrow(/must start with "in-"/)
  })

  it("rejects a default outside a choice group and a lone alternative", () => {
    expect(() => decode(withRows([{ ...first, endpoints: [{ transport: "tcp", port: 5199, default: true }] }]))).toThrow(
      /default outside a choice group/
    )
    expect(() => decode(withRows([{ ...first, endpoints: [{ transport: "tcp", port: 5199, choice: "ha" }] }]))).toThrow(
      /single member/
    )
  })

  it("rejects a port out of range and an unknown transport", () => {
    expect(() => decode(withRows([{ ...first, endpoints: [{ transport: "tcp", port: 70000 }] }]))).toThrow()
    expect(() => decode(withRows([{ ...first, endpoints: [{ transport: "sctp", port: 514 }] }]))).toThrow()
  })
})

describe("renderTable", () => {
  it.each([60, 80, 100, 120])("keeps every line within %i columns", (width) => {
    const text = renderTable(catalogRows(), { width })
    for (const line of text.split("\n")) expect(line.length).toBeLessThanOrEqual(width)
  })

  it("defaults to 120 columns and never goes below 60", () => {
    expect(Math.max(...renderTable(catalogRows()).split("\n").map((l) => l.length))).toBeLessThanOrEqual(120)
    expect(Math.max(...renderTable(catalogRows(), { width: 10 }).split("\n").map((l) => l.length))).toBeLessThanOrEqual(60)
  })

  it("has the header and one first line per row, with the ports unbroken at full width", () => {
    const lines = renderTable(catalogRows({ product: "FortiClient" })).trimEnd().split("\n")
    expect(lines[0]?.split(/\s+/)).toEqual(["DIR", "PRODUCT", "PURPOSE", "PORTS", "STATUS", "NOTES"])
    expect(lines.filter((line) => line.startsWith("in "))).toHaveLength(4)
    expect(lines.some((line) => /^in\s+FortiClient\s+Syslog\s+udp\/514 or tcp\/514\s+emulated$/.test(line))).toBe(true)
  })
})

describe("renderJsonLines", () => {
  it("writes one JSON object per row per line", () => {
    const rows = catalogRows({ direction: "in" })
    const lines = renderJsonLines(rows).trimEnd().split("\n")
    expect(lines.map((line) => JSON.parse(line))).toEqual(rows)
  })
})
