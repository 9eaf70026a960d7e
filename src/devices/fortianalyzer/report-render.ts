/**
 * A generated report's content (`ReportContent`: a title, a few "key: value" lines, tables) as
 * the files FortiAnalyzer's output formats give: PDF, HTML and CSV.
 *
 * - **PDF** with `pdf-lib`: pure JavaScript (no native code, no font files: the standard
 *   Helvetica fonts every PDF reader has), typed, and its text stays text, so `pdftotext` reads
 *   the figures back. A4 portrait, a new page when one is full; a cell too wide for its column
 *   is cut with "..."; characters Helvetica's WinAnsi encoding lacks print as "?".
 * - **HTML**: one self-contained page, every value escaped.
 * - **CSV** (RFC 4180 quoting): each table as a block, its title on a line of its own, then its
 *   header and rows, blocks separated by an empty line.
 */
import { PDFDocument, type PDFFont, type PDFPage, rgb, StandardFonts } from "pdf-lib"

export const REPORT_FORMATS = ["pdf", "html", "csv"] as const
export type ReportFormat = (typeof REPORT_FORMATS)[number]

export interface ReportTable {
  readonly title: string
  readonly columns: ReadonlyArray<string>
  readonly rows: ReadonlyArray<ReadonlyArray<string>>
}

export interface ReportContent {
  readonly title: string
  /** "Key: value" lines under the title (analyzer, period, devices...). */
  readonly facts: ReadonlyArray<readonly [string, string]>
  readonly tables: ReadonlyArray<ReportTable>
  /** When it was generated (the lab's date). */
  readonly generatedAt: Date
}

// ---------------------------------------------------------------------------------------------
// PDF
// ---------------------------------------------------------------------------------------------

const PAGE = { width: 595.28, height: 841.89, margin: 50 } as const
const SIZES = { title: 18, fact: 10, heading: 12, cell: 9 } as const
const LINE = 14

/** Text Helvetica (WinAnsi) can draw: what it lacks becomes "?". */
const winAnsi = (text: string): string => text.replace(/[^\x20-\x7e\xa0-\xff]/gu, "?")

/** `text` cut with "..." to fit `width` points. */
const fit = (text: string, font: PDFFont, size: number, width: number): string => {
  const clean = winAnsi(text)
  if (font.widthOfTextAtSize(clean, size) <= width) return clean
  let cut = clean
  while (cut.length > 0 && font.widthOfTextAtSize(`${cut}...`, size) > width) cut = cut.slice(0, -1)
  return `${cut}...`
}

/** Where the next line goes, across pages. */
class PdfCursor {
  readonly #doc: PDFDocument
  page: PDFPage
  y: number

  constructor(doc: PDFDocument) {
    this.#doc = doc
    this.page = doc.addPage([PAGE.width, PAGE.height])
    this.y = PAGE.height - PAGE.margin
  }

  /** Room for `height` more points, on a new page when this one is full. */
  need(height: number): void {
    if (this.y - height >= PAGE.margin) return
    this.page = this.#doc.addPage([PAGE.width, PAGE.height])
    this.y = PAGE.height - PAGE.margin
  }
}

const renderPdf = async (content: ReportContent): Promise<Buffer> => {
  const doc = await PDFDocument.create()
  doc.setTitle(content.title)
  doc.setProducer("fazlab")
  doc.setCreator("fazlab FortiAnalyzer emulator")
  doc.setCreationDate(content.generatedAt)
  doc.setModificationDate(content.generatedAt)
  const regular = await doc.embedFont(StandardFonts.Helvetica)
  const bold = await doc.embedFont(StandardFonts.HelveticaBold)
  const cursor = new PdfCursor(doc)
  const width = PAGE.width - 2 * PAGE.margin
  const draw = (text: string, x: number, font: PDFFont, size: number, room: number) =>
    cursor.page.drawText(fit(text, font, size, room), { x, y: cursor.y, size, font, color: rgb(0, 0, 0) })

  cursor.need(SIZES.title + LINE)
  draw(content.title, PAGE.margin, bold, SIZES.title, width)
  cursor.y -= SIZES.title + 8
  for (const [key, value] of content.facts) {
    cursor.need(LINE)
    draw(`${key}: ${value}`, PAGE.margin, regular, SIZES.fact, width)
    cursor.y -= LINE
  }
  for (const table of content.tables) {
    cursor.y -= 10
    cursor.need(LINE * 3)
    draw(table.title, PAGE.margin, bold, SIZES.heading, width)
    cursor.y -= LINE + 2
    const columnWidth = width / Math.max(1, table.columns.length)
    const row = (cells: ReadonlyArray<string>, font: PDFFont) => {
      cursor.need(LINE)
      cells.forEach((cell, i) => draw(cell, PAGE.margin + i * columnWidth, font, SIZES.cell, columnWidth - 6))
      cursor.y -= LINE
    }
    row(table.columns, bold)
    if (table.rows.length === 0) row(["(no logs)"], regular)
    for (const cells of table.rows) row(cells, regular)
  }
  return Buffer.from(await doc.save())
}

// ---------------------------------------------------------------------------------------------
// HTML and CSV
// ---------------------------------------------------------------------------------------------

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/gu, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" })[c] ?? c)

const renderHtml = (content: ReportContent): Buffer => {
  const cells = (tag: string, values: ReadonlyArray<string>) => values.map((value) => `<${tag}>${escapeHtml(value)}</${tag}>`).join("")
  const tables = content.tables.map((table) => [
    `<h2>${escapeHtml(table.title)}</h2>`,
    "<table>",
    `<tr>${cells("th", table.columns)}</tr>`,
    ...(table.rows.length === 0 ? [`<tr><td colspan="${table.columns.length}">(no logs)</td></tr>`] : table.rows.map((row) => `<tr>${cells("td", row)}</tr>`)),
    "</table>"
  ].join("\n"))
  return Buffer.from([
    "<!DOCTYPE html>",
    "<html lang=\"en\">",
    `<head><meta charset="utf-8"><title>${escapeHtml(content.title)}</title>`,
    "<style>body{font-family:Helvetica,Arial,sans-serif}table{border-collapse:collapse}th,td{border:1px solid #999;padding:2px 8px;text-align:left}</style></head>",
    "<body>",
    `<h1>${escapeHtml(content.title)}</h1>`,
    `<dl>${content.facts.map(([key, value]) => `<dt>${escapeHtml(key)}</dt><dd>${escapeHtml(value)}</dd>`).join("")}</dl>`,
    ...tables,
    "</body>",
    "</html>",
    ""
  ].join("\n"), "utf8")
}

const csvCell = (value: string): string => (/[",\r\n]/u.test(value) ? `"${value.replace(/"/gu, "\"\"")}"` : value)
const csvLine = (values: ReadonlyArray<string>): string => values.map(csvCell).join(",")

const renderCsv = (content: ReportContent): Buffer =>
  Buffer.from(
    [
      csvLine([content.title]),
      ...content.facts.map(([key, value]) => csvLine([key, value])),
      ...content.tables.flatMap((table) => ["", csvLine([table.title]), csvLine(table.columns), ...table.rows.map(csvLine)])
    ].join("\r\n") + "\r\n",
    "utf8"
  )

/** The report as a file of `format`. */
export const renderReport = (content: ReportContent, format: ReportFormat): Promise<Buffer> =>
  format === "pdf" ? renderPdf(content) : Promise.resolve(format === "html" ? renderHtml(content) : renderCsv(content))
