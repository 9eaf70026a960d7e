/**
 * The catalog holds every row of the vendor's port table, and nothing else: the vendor
 * document (test/fixtures/fortianalyzer-ports.md) is parsed independently and compared row by
 * row, for both port tables, the anycast table, the footnotes and the change log.
 */
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { catalog, formatEndpoint } from "../../src/catalog/catalog.ts"

const document = readFileSync(new URL("../fixtures/fortianalyzer-ports.md", import.meta.url), "utf8")

const stripTags = (text: string): string => text.replace(/<[^>]+>/g, "")

/** The lines of the section titled `title`, up to the next "## " heading. */
const section = (title: string): Array<string> => {
  const lines = document.split("\n")
  const start = lines.indexOf(`## ${title}`)
  if (start === -1) throw new Error(`fixture has no section "${title}"`)
  const end = lines.findIndex((line, i) => i > start && line.startsWith("## "))
  return lines.slice(start + 1, end === -1 ? undefined : end)
}

/** The tab-separated table of a section: cells of each row after the header, tags stripped. */
const table = (title: string, header: string): Array<Array<string>> => {
  const lines = section(title)
  const start = lines.indexOf(header)
  if (start === -1) throw new Error(`section "${title}" has no header "${header}"`)
  const body: Array<Array<string>> = []
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === "") break
    body.push(line.split("\t").map((cell) => stripTags(cell).trim()))
  }
  return body
}

/** The section's footnote paragraph ("\* ..."), without its marker. */
const footnote = (title: string): string => {
  const line = section(title).find((l) => l.startsWith("\\*"))
  if (line === undefined) throw new Error(`section "${title}" has no footnote`)
  return line.replace(/^\\\*\s*/, "")
}

interface VendorRow {
  readonly direction: "in" | "out"
  readonly product: string
  readonly purpose: string
  readonly vendorText: string
  readonly footnoted: boolean
}

const withoutMarker = (cell: string): { readonly text: string; readonly marked: boolean } =>
  cell.endsWith("*") ? { text: cell.slice(0, -1).trim(), marked: true } : { text: cell, marked: false }

const vendorRows = (direction: "in" | "out", title: string): Array<VendorRow> => {
  let product = ""
  return table(title, "Product\tPurpose\tProtocol and Port").map(([productCell = "", purposeCell = "", portCell = ""]) => {
    const productText = withoutMarker(productCell)
    const purposeText = withoutMarker(purposeCell)
    if (productText.text !== "") product = productText.text
    // The vendor's Google Maps row lists its URLs under Purpose and leaves Protocol and Port
    // empty; the catalog treats such a cell as the row's ports.
    const shifted = portCell === "" && /^(https:\/\/\S+\s*)+$/.test(purposeText.text)
    return {
      direction,
      product,
      purpose: shifted ? "" : purposeText.text,
      vendorText: shifted ? purposeText.text : portCell,
      footnoted: productText.marked || purposeText.marked
    }
  })
}

const incoming = vendorRows("in", "Incoming ports")
const outgoing = vendorRows("out", "Outgoing Ports")

describe("the port tables", () => {
  it("parses the fixture into the expected number of vendor rows", () => {
    expect(incoming).toHaveLength(20)
    expect(outgoing).toHaveLength(19)
  })

  it("has exactly one catalog row for every vendor row, and no other rows", () => {
    const unmatched = [...catalog.rows]
    for (const vendor of [...incoming, ...outgoing]) {
      const index = unmatched.findIndex((row) =>
        row.direction === vendor.direction &&
        row.product === vendor.product &&
        row.purpose === vendor.purpose &&
        row.vendorText === vendor.vendorText
      )
      expect(index, `no catalog row for ${JSON.stringify(vendor)}`).not.toBe(-1)
      unmatched.splice(index, 1)
    }
    expect(unmatched.map((row) => row.id)).toEqual([])
    expect(catalog.rows).toHaveLength(incoming.length + outgoing.length)
  })

  it("names in its endpoints exactly the ports and URLs of the vendor's cell", () => {
    for (const row of catalog.rows) {
      const ports = [...row.vendorText.matchAll(/\b(TCP|UDP|TLS)\/(\d+)/g)].map((m) => `${m[1]?.toLowerCase()}/${m[2]}`)
      const urls = row.vendorText.match(/https:\/\/\S+/g) ?? []
      expect(row.endpoints.map(formatEndpoint).sort(), row.id).toEqual([...ports, ...urls].sort())
    }
  })

  it("attaches each vendor footnote to the rows the vendor marks, and only to them", () => {
    const marked = [...incoming, ...outgoing].filter((vendor) => vendor.footnoted)
    expect(marked.map((v) => `${v.direction} ${v.product}`)).toEqual(["in FortiAnalyzer", "out Google Maps integration"])
    const rowsWithNotes = catalog.rows.filter((row) => row.notes.length > 0).map((row) => row.id)
    expect(rowsWithNotes).toEqual(["in-fortianalyzer-ha", "out-google-maps-integration"])
    expect(footnote("Incoming ports")).toBe(catalog.footnotes.primaryOnly)
    expect(footnote("Outgoing Ports").startsWith(catalog.footnotes.googleMaps)).toBe(true)
  })

  it("flags only the incoming HA row TCP/5199 as primary only", () => {
    const ha = catalog.rows.find((row) => row.id === "in-fortianalyzer-ha")
    expect(ha?.vendorText).toBe("TCP/5199")
    expect(ha?.primaryOnly).toBe(true)
    expect(ha?.notes).toEqual(["Only the acting Primary device will listen on this port."])
    expect(catalog.rows.filter((row) => row.primaryOnly).map((row) => row.id)).toEqual(["in-fortianalyzer-ha"])
  })
})

describe("the anycast table", () => {
  const vendorServices = table("Anycast and unicast services", "Service\tNon-Anycast FQDN address\tAnycast domain name").map(
    ([service = "", fqdns = "", anycast = ""]) => ({
      service,
      fqdns: fqdns.split(/\s+/),
      anycastDomains: anycast.split(/\s+/).map((domain) => ({
        domain: domain.replace(/\*$/, ""),
        awsAnycastOnly: domain.endsWith("*")
      }))
    })
  )

  it("has every vendor service with its FQDNs and anycast domains, and no other", () => {
    expect(vendorServices).toHaveLength(3)
    expect(catalog.anycast).toEqual(vendorServices)
  })

  it("carries the AWS footnote", () => {
    expect(footnote("Anycast and unicast services").startsWith(catalog.footnotes.awsAnycast)).toBe(true)
    expect(catalog.anycast.flatMap((s) => s.anycastDomains).filter((d) => d.awsAnycastOnly).map((d) => d.domain)).toEqual([
      "globalupdate2.fortinet.net",
      "usupdate2.fortinet.net",
      "globalupdate2.fortinet.net",
      "usupdate2.fortinet.net"
    ])
  })
})

describe("the change log", () => {
  it("matches the vendor's, and the revision is its latest date", () => {
    const entries = table("Change Log", "Date\tChange Description").map(([date = "", change = ""]) => ({
      date,
      change: change.replace(/\s+/g, " ").replace(/ \./g, ".")
    }))
    expect(catalog.source.changeLog).toEqual(entries)
    expect(catalog.source.revision).toBe("2024-01-25")
  })
})
