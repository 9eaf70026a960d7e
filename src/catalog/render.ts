/**
 * The port catalog as text for people and programs: plain-text tables for the terminal (the
 * ports, then the anycast/unicast FQDNs), JSON lines for scripts, and the Markdown of
 * docs/ports.md (generated, never edited by hand).
 */
import { catalog, type FqdnRow, formatEndpoints } from "./catalog.ts"
import type { AnycastService, CatalogRow, Direction, Footnotes } from "./schema.ts"

const columnGap = "  "
const minimumWidth = 60

/** Splits `text` into lines of at most `width` characters, at spaces where possible. */
const wrap = (text: string, width: number): Array<string> => {
  const lines: Array<string> = []
  let line = ""
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    let rest = word
    while (rest.length > width) {
      if (line !== "") lines.push(line)
      line = ""
      lines.push(rest.slice(0, width))
      rest = rest.slice(width)
    }
    if (line === "") line = rest
    else if (line.length + 1 + rest.length <= width) line = `${line} ${rest}`
    else {
      lines.push(line)
      line = rest
    }
  }
  if (line !== "" || lines.length === 0) lines.push(line)
  return lines
}

/** Narrows the widest column above its floor, one character at a time, until the total fits. */
const shrink = (widths: Array<number>, floors: ReadonlyArray<number>, available: number): void => {
  let total = widths.reduce((sum, w) => sum + w, 0)
  while (total > available) {
    let widest = -1
    widths.forEach((w, i) => {
      if (w > (floors[i] ?? 0) && (widest === -1 || w > (widths[widest] ?? 0))) widest = i
    })
    if (widest === -1) return
    widths[widest] = (widths[widest] ?? 0) - 1
    total -= 1
  }
}

/**
 * Column widths that fit `width`: the widest column gives way first; words (ports, URLs) are
 * split only when wrapping at spaces cannot fit, and no column gets narrower than its header.
 */
const fitColumns = (
  natural: ReadonlyArray<number>,
  longestWord: ReadonlyArray<number>,
  header: ReadonlyArray<number>,
  width: number
): Array<number> => {
  const widths = [...natural]
  const available = width - columnGap.length * (widths.length - 1)
  shrink(widths, longestWord.map((w, i) => Math.max(w, header[i] ?? 0)), available)
  shrink(widths, header, available)
  return widths
}

const rowNotes = (row: CatalogRow): string => row.notes.join(" ")

/**
 * A plain-text table. Lines stay within `width` (default 120, at least 60): wide cells wrap at
 * spaces, unbreakable words are split.
 */
const textTable = (header: ReadonlyArray<string>, cells: ReadonlyArray<ReadonlyArray<string>>, options: { readonly width?: number }): string => {
  const width = Math.max(minimumWidth, options.width ?? 120)
  const natural = header.map((title, i) => Math.max(title.length, ...cells.map((rowCells) => rowCells[i]?.length ?? 0)))
  const longestWord = header.map((_, i) =>
    Math.max(0, ...cells.flatMap((rowCells) => (rowCells[i] ?? "").split(" ").map((word) => word.length)))
  )
  const widths = fitColumns(natural, longestWord, header.map((title) => title.length), width)
  const lines: Array<string> = []
  for (const rowCells of [header, ...cells]) {
    const wrapped = rowCells.map((text, i) => wrap(text, widths[i] ?? text.length))
    const height = Math.max(...wrapped.map((w) => w.length))
    for (let line = 0; line < height; line++) {
      const parts = wrapped.map((w, i) => (w[line] ?? "").padEnd(widths[i] ?? 0))
      lines.push(parts.join(columnGap).trimEnd())
    }
  }
  return lines.map((line) => `${line}\n`).join("")
}

/** The port rows as a table with columns DIR, PRODUCT, PURPOSE, PORTS, STATUS (what fazlab does with the row), NOTES. */
export const renderTable = (rows: ReadonlyArray<CatalogRow>, options: { readonly width?: number } = {}): string =>
  textTable(
    ["DIR", "PRODUCT", "PURPOSE", "PORTS", "STATUS", "NOTES"],
    rows.map((row) => [row.direction, row.product, row.purpose, formatEndpoints(row.endpoints), row.emulation.status, rowNotes(row)]),
    options
  )

const fqdnKind = (row: FqdnRow): string => row.kind === "unicast" ? "unicast" : row.awsAnycastOnly ? "anycast (AWS only)" : "anycast"

/** The anycast/unicast FQDNs under a title line, as a table with columns SERVICE, NAME, KIND, STATUS; nothing without rows. */
export const renderFqdnTable = (rows: ReadonlyArray<FqdnRow>, options: { readonly width?: number } = {}): string =>
  rows.length === 0 ? "" : `\nFortiGuard services the FortiAnalyzer reaches (anycast and unicast):\n${textTable(["SERVICE", "NAME", "KIND", "STATUS"], rows.map((row) => [row.service, row.name, fqdnKind(row), row.status]), options)}`

/** One JSON object per port row, one row per line. */
export const renderJsonLines = (rows: ReadonlyArray<CatalogRow>): string =>
  rows.map((row) => `${JSON.stringify(row)}\n`).join("")

/**
 * One JSON object per FQDN, one per line, told apart from port rows by `table: "fqdn"`: the
 * service, the name, its kind (unicast or anycast), whether it is used only with the AWS anycast
 * source, what fazlab does with it (`status`), and the direction and product a port row would have.
 */
export const renderFqdnJsonLines = (rows: ReadonlyArray<FqdnRow>): string =>
  rows.map((row) => `${JSON.stringify({ table: "fqdn", direction: "out", product: "FortiGuard", ...row })}\n`).join("")

const cell = (text: string): string => text.replaceAll("|", "\\|")

const markdownTable = (header: ReadonlyArray<string>, body: ReadonlyArray<ReadonlyArray<string>>): string =>
  [header, header.map(() => "---"), ...body].map((cells) => `| ${cells.join(" | ")} |\n`).join("")

const footnoteRef = (key: keyof Footnotes): string => `[^${key}]`

/** The reference to the vendor footnote whose text is `note`, or the note itself. */
const noteRef = (note: string): string => {
  const entry = Object.entries(catalog.footnotes).find(([, text]) => text === note)
  return entry === undefined ? cell(note) : `[^${entry[0]}]`
}

const notesCell = (row: CatalogRow): string =>
  [
    ...(row.primaryOnly ? ["primary only"] : []),
    ...row.notes.map(noteRef)
  ].join(" ")

const emulationCell = (row: CatalogRow): string =>
  `${row.emulation.status} (${row.emulation.listener} listens, ${row.emulation.dialer} dials)`

const portTable = (direction: Direction): string =>
  markdownTable(
    ["ID", "Product", "Purpose", "Ports", "Vendor text", "Notes", "Emulation"],
    catalog.rows.filter((row) => row.direction === direction).map((row) => [
      `\`${row.id}\``,
      cell(row.product),
      cell(row.purpose),
      cell(formatEndpoints(row.endpoints)),
      cell(row.vendorText),
      notesCell(row),
      emulationCell(row)
    ])
  )

const anycastTable = (services: ReadonlyArray<AnycastService>): string =>
  markdownTable(
    ["Service", "Non-anycast FQDNs", "Anycast domain names"],
    services.map((service) => [
      cell(service.service),
      service.fqdns.join("<br>"),
      service.anycastDomains
        .map((d) => d.awsAnycastOnly ? `${d.domain} ${footnoteRef("awsAnycast")}` : d.domain)
        .join("<br>")
    ])
  )

/** The full content of docs/ports.md. */
export const renderMarkdown = (): string =>
  [
    "<!-- generated by `npm run docs:ports` from src/catalog; do not edit -->\n",
    "# FortiAnalyzer ports\n",
    `Every row of the vendor's *${catalog.source.title}* (revision ${catalog.source.revision}) and what fazlab ` +
    "does with it. `fazlab ports` prints the same catalog, `fazlab ports --json` as JSON lines.\n",
    "Ports are written `transport/port`; `tls` is TLS over TCP. Endpoints separated by commas are all used; " +
    "\"or\" separates alternatives of which one is used, \"(default)\" marks the one used out of the box. " +
    "*Vendor text* is the vendor's Protocol and Port cell verbatim.\n",
    "Emulation: **emulated**: a fazlab device listens or dials here today; **represented**: a flow between " +
    "other parties than the FortiAnalyzer (the Google Maps URLs: the admin's PC dials them), in the catalog and " +
    "the firewall probe's matrix, not emulated; **planned**: on the roadmap; " +
    "**catalog-only**: listed for reference (firewall rules, documentation), no device behind it.\n",
    "## Incoming ports\n",
    "The FortiAnalyzer listens; the product dials.\n",
    portTable("in"),
    "## Outgoing ports\n",
    "The FortiAnalyzer dials; the product listens.\n",
    portTable("out"),
    "The vendor's Google Maps row lists its URLs in the Purpose column and leaves Protocol and Port empty; " +
    "here they are its ports and its purpose is empty.\n",
    "## Anycast and unicast services\n",
    "Services the FortiAnalyzer reaches.\n",
    anycastTable(catalog.anycast),
    "Every name of this table is served by the lab's `fortiguard` device when the lab has one (its DNS " +
    "server answers the names with its address): docs/protocols/fortiguard.md.\n",
    "## Source change log\n",
    markdownTable(["Date", "Change"], catalog.source.changeLog.map((entry) => [entry.date, cell(entry.change)])),
    Object.entries(catalog.footnotes).map(([key, text]) => `[^${key}]: ${text}\n`).join("")
  ].join("\n")
